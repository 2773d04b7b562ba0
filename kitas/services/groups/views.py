"""What a sponsor does with a group once started: follow every member, confirm once, pay together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from forms.texts import Message
from workflows import KitasType, catalog

from ...extensions import db
from ...models import Application, ApplicationGroup, HumanTask, User
from ..audit.refusals import record_refusal
from ..cases import complete_task
from ..cases.names import names_by_definition, task_name
from ..errors import Conflict, InvalidInput, NotFound
from ..paging import Page, page_bounds
from ..payments import group_bills
from ..payments.group_bills import GroupBillView
from .start import startable_group_types

PER_PAGE = 10  # a group holds up to the catalog's group_max_members (20) people


@dataclass(frozen=True)
class MemberRow:
    """One member's case on the group page: who, where it stands, what it waits for."""

    application: Application
    name: str
    status: str
    closed: bool
    # who acts next: "you" (the sponsor fills a step), "confirm" (the sponsor's guarantee), "office"
    # (an officer), "payment", or "" (nothing: closed, or waiting for time)
    waits_for: str
    task_name: str | None = None
    task_id: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class GroupPage:
    """The group page: the group, one page of its members, and what the sponsor can do for all at once."""

    group: ApplicationGroup
    type_name: str
    members: Page[MemberRow]
    to_confirm: int  # members waiting for the sponsor's guarantee
    to_pay: int  # members whose status asks for payment
    combined_billing: bool


@dataclass(frozen=True)
class GroupPaymentPage:
    """The group's payment: the combined codes (when the provider allows one), else each member's own."""

    group: ApplicationGroup
    combined_billing: bool
    bills: list[GroupBillView]
    waiting: list[Application]  # members whose status asks for payment


@dataclass(frozen=True)
class ConfirmOutcome:
    """What one "confirm for everyone" did: the cases confirmed, and those refused with the reason."""

    confirmed: list[str]
    refused: list[tuple[str, str]]


def find_group(reference: str, user: User) -> ApplicationGroup:
    """The user's own group with this reference; NotFound (audited) for anyone else's or none."""
    group = db.session.scalars(select(ApplicationGroup).where(ApplicationGroup.reference == reference)).first()
    if group is None or group.sponsor_id != user.id:
        record_refusal(user, "group", group.id if group else None, f"group {reference[:40]}")
        raise NotFound(Message("there is no such group application, or it is not yours"))
    return group


@dataclass(frozen=True)
class MyGroups:
    """The sponsor's groups (with their number of members) and the types a group can be started of."""

    groups: list[tuple[ApplicationGroup, int]]
    startable: list[KitasType]


def my_groups_page(user: User, language: str | None = None) -> MyGroups:
    """The sponsor's list of groups and what they can start."""
    return MyGroups(my_groups(user), startable_group_types(language))


def my_groups(user: User) -> list[tuple[ApplicationGroup, int]]:
    """The user's groups, newest first, with their number of members."""
    rows = db.session.execute(
        select(ApplicationGroup, func.count(Application.id))
        .outerjoin(Application, Application.group_id == ApplicationGroup.id)
        .where(ApplicationGroup.sponsor_id == user.id)
        .group_by(ApplicationGroup.id)
        .order_by(ApplicationGroup.id.desc())
    ).all()
    return [(group, count) for group, count in rows]


def _payment_statuses() -> set[str]:
    return {code for code, text in catalog().statuses.items() if text.action_page == "payment"}


def group_page(reference: str, user: User, number: int = 1, language: str | None = None) -> GroupPage:
    """The group page: every member's case with its status and what it waits for, paged."""
    group = find_group(reference, user)
    number, per_page = page_bounds(number, PER_PAGE)
    where = Application.group_id == group.id
    total = db.session.scalar(select(func.count()).select_from(Application).where(where)) or 0
    apps = db.session.scalars(
        select(Application)
        .options(lazyload(Application.definition))
        .where(where)
        .order_by(Application.id)
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    rows = _rows(group, apps, language)
    open_sponsor_tasks = db.session.scalar(
        select(func.count())
        .select_from(HumanTask)
        .join(Application, Application.id == HumanTask.application_id)
        .where(where, HumanTask.role == "sponsor")
    )
    to_pay = db.session.scalar(
        select(func.count())
        .select_from(Application)
        .where(where, Application.status.in_(_payment_statuses()), Application.closed_at.is_(None))
    )
    return GroupPage(
        group=group,
        type_name=catalog(language).by_code(group.kitas_type).name,
        members=Page(rows, number, per_page, total),
        to_confirm=open_sponsor_tasks or 0,
        to_pay=to_pay or 0,
        combined_billing=group_bills.combined_billing(),
    )


def _rows(group: ApplicationGroup, apps: Sequence[Application], language: str | None) -> list[MemberRow]:
    ids = [a.id for a in apps]
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.application_id.in_(ids))).all() if ids else []
    definitions = {a.id: a.definition_id for a in apps}
    names = names_by_definition(definitions.values(), language)
    first: dict[int, HumanTask] = {}
    for open_task in sorted(tasks, key=lambda t: (t.created_at, t.id)):
        first.setdefault(open_task.application_id, open_task)
    paying = _payment_statuses()
    members = group.members or {}
    rows = []
    for application in apps:
        task = first.get(application.id)
        name = str(members.get(str(application.id), application.reference))
        if application.closed_at is not None:
            waits = ""
        elif task is not None:
            waits = {"applicant": "you", "sponsor": "confirm"}.get(task.role, "office")
        elif application.status in paying:
            waits = "payment"
        else:
            waits = ""
        rows.append(
            MemberRow(
                application=application,
                name=name,
                status=application.status,
                closed=application.closed_at is not None,
                waits_for=waits,
                task_name=task_name(task, names.get(definitions[application.id])) if task is not None else None,
                task_id=task.task_id if task is not None else None,
                due_at=task.due_at if task is not None else None,
            )
        )
    return rows


def confirm_group(reference: str, user: User) -> ConfirmOutcome:
    """The sponsor's guarantee, given once for every member waiting for it: each case's own step (the
    individual sponsor's limit is checked in each); a refusal of one does not stop the others."""
    group = find_group(reference, user)
    confirms = catalog().confirms_of(group.kitas_type)
    waiting = db.session.execute(
        select(Application.id, Application.reference, HumanTask.task_id)
        .join(HumanTask, HumanTask.application_id == Application.id)
        .where(Application.group_id == group.id, HumanTask.role == "sponsor")
        .order_by(Application.id)
    ).all()
    if not waiting:
        raise Conflict(Message("no application of this group waits for your confirmation"))
    confirmed: list[str] = []
    refused: list[tuple[str, str]] = []
    for application_id, case_reference, task_id in waiting:
        try:
            complete_task(application_id, task_id, user, dict(confirms))
        except InvalidInput as exc:
            reason = next((m for ms in exc.errors.values() for m in ms), exc.message)
            refused.append((case_reference, reason))
        except Conflict as exc:
            refused.append((case_reference, exc.message))
        else:
            confirmed.append(case_reference)
    return ConfirmOutcome(confirmed, refused)


def group_payment_page(reference: str, user: User) -> GroupPaymentPage:
    """The group's payment page."""
    group = find_group(reference, user)
    waiting = db.session.scalars(
        select(Application)
        .options(lazyload(Application.definition))
        .where(
            Application.group_id == group.id,
            Application.status.in_(_payment_statuses()),
            Application.closed_at.is_(None),
        )
        .order_by(Application.id)
    ).all()
    return GroupPaymentPage(
        group=group,
        combined_billing=group_bills.combined_billing(),
        bills=group_bills.group_bills(group.id),
        waiting=list(waiting),
    )


def pay_group(reference: str, user: User) -> GroupBillView:
    """One billing code for every member waiting for payment without one (the provider's capability)."""
    group = find_group(reference, user)
    ids = db.session.scalars(select(Application.id).where(Application.group_id == group.id)).all()
    bill = group_bills.issue_group_bill(group.id, group.reference, ids, user)
    return next(view for view in group_bills.group_bills(group.id) if view.billing_code == bill.billing_code)
