"""The dashboard's figures: each a table with headers (Messages) and rows, shown, charted and exported.

The scope is the reader's offices (``offices.scope.visible_office_ids``: an admin sees every office,
the cases without an office included). Every statement reads an index range of one projection table:
``human_task`` (open tasks per step and office: ``ix_human_task_step_office``; late tasks:
``ix_human_task_due``) or ``case_milestone`` (``ix_case_milestone_kind_day``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select

from forms.texts import Message
from workflows import catalog

from ...extensions import app_clock, db
from ...models import HumanTask, Office, User
from ..cases.access import OFFICER_ROLES
from ..cases.milestones import HOME_ZONE
from ..deployments import element_names, latest_definition
from ..errors import Forbidden
from ..offices.scope import trial_task_ids, visible_office_ids

NO_OFFICE = Message("no office")
NOBODY = Message("Nobody (unclaimed)")
WINDOW_DAYS = 30


@dataclass
class Figure:
    """One figure: its key (the CSV's name), title, column headers and rows of plain values."""

    key: str
    title: Message
    headers: list[Message]
    rows: list[list[Any]]
    note: Message | None = None


@dataclass(frozen=True)
class Scope:
    """Whose figures: the offices the reader sees (None: every office), now, and today in WIB."""

    offices: frozenset[int] | None
    now: datetime
    today: date
    language: str | None
    hidden: tuple[int, ...] = ()  # every office's figures (an admin's): the trial cases' task rows, left out

    def tasks(self) -> list[ColumnElement[bool]]:
        """The office condition on task rows (an admin's: none, but the trial cases' tasks left out)."""
        if self.offices is None:
            return [HumanTask.id.not_in(self.hidden)] if self.hidden else []
        return [HumanTask.office_id.in_(self.offices)]


def require_supervisor(user: User) -> None:
    """Forbidden unless the user is a supervisor or an administrator (a verifier sees no dashboard)."""
    if not (user.has_role("supervisor") or user.has_role("admin")):
        raise Forbidden(Message("the dashboard is for supervisors and administrators"))


def scope_of(user: User, language: str | None) -> Scope:
    """The reader's scope, now."""
    require_supervisor(user)
    now = app_clock().now()
    offices = visible_office_ids(user)
    hidden = trial_task_ids() if offices is None else ()
    return Scope(offices, now, now.astimezone(ZoneInfo(HOME_ZONE)).date(), language, hidden)


def office_names() -> dict[int | None, str]:
    """Office id -> its name and city; None -> "no office"."""
    names: dict[int | None, str] = {None: NO_OFFICE}
    for office in db.session.scalars(select(Office)):
        names[office.id] = f"{office.name} ({office.city})"
    return names


def step_names(language: str | None) -> dict[str, str]:
    """Element id -> the step's name in ``language``, from the newest version of every type's process."""
    names: dict[str, str] = {}
    for kitas_type in catalog().types:
        definition = latest_definition(kitas_type.process_id) if kitas_type.process_id else None
        if definition is not None:
            for element, name in element_names(definition, language or "en").items():
                names.setdefault(element, name)
    return names


def type_name(code: str, language: str | None) -> str:
    """A KITAS type by its name in ``language`` (its code when the catalog lacks it)."""
    try:
        return catalog(language).by_code(code).name
    except KeyError:
        return code


def people(ids: Sequence[int | None]) -> dict[int | None, str]:
    """User id -> full name, for the ids given; None -> nobody."""
    wanted = {i for i in ids if i is not None}
    found: dict[int | None, str] = {None: NOBODY}
    if wanted:
        for user_id, name in db.session.execute(select(User.id, User.full_name).where(User.id.in_(wanted))):
            found[user_id] = name
    return found


def open_tasks_per_step(scope: Scope) -> Figure:
    """Open tasks (cases waiting) per step and office, with how many of them are late."""
    late = func.sum(case((HumanTask.due_at <= scope.now, 1), else_=0))
    query = (
        select(HumanTask.element_id, HumanTask.office_id, func.count(), late)
        .where(*scope.tasks())
        .group_by(HumanTask.element_id, HumanTask.office_id)
    )
    steps, offices = step_names(scope.language), office_names()
    rows = [
        [steps.get(element, element), offices.get(office, NO_OFFICE), count, int(late_count or 0)]
        for element, office, count, late_count in db.session.execute(query)
    ]
    rows.sort(key=lambda row: (str(row[0]), str(row[1])))
    return Figure(
        "steps",
        Message("Cases per step and office"),
        [Message("Step"), Message("Office"), Message("Open tasks"), Message("Late")],
        rows,
    )


def late_tasks(scope: Scope) -> Figure:
    """Late officers' tasks per officer holding them (nobody: unclaimed), and how many were escalated."""
    escalated = func.sum(case((HumanTask.escalated_at.is_not(None), 1), else_=0))
    query = (
        select(HumanTask.claimed_by_id, func.count(), escalated)
        .where(HumanTask.role.in_(OFFICER_ROLES), HumanTask.due_at <= scope.now, *scope.tasks())
        .group_by(HumanTask.claimed_by_id)
    )
    found = list(db.session.execute(query))
    names = people([row[0] for row in found])
    rows = sorted(([names.get(who, NOBODY), count, int(up or 0)] for who, count, up in found), key=lambda r: -r[1])
    return Figure(
        "late",
        Message("Late tasks per officer"),
        [Message("Officer"), Message("Late tasks"), Message("Escalated")],
        rows,
    )
