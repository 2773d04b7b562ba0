"""The lists people work from: my applications and guarantees to confirm (the officers' inbox: inbox.py).

They read the projections (application, human_task, timer) and never the workflow state. Names
(task names, KITAS types, status words) come in the ``language`` asked for, English without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, lazyload, selectinload

from workflows import catalog

from ...extensions import db
from ...models import Application, AuditEvent, HumanTask, ProcessDefinition, Timer, User
from ..deployments import process_model
from ..paging import Page, page_bounds
from .names import names_by_definition, task_name

# Aliases made once: a new alias per call would make SQLAlchemy compile the statement again every time.
_APPLICANT = aliased(User, name="applicant_user")
_SPONSOR_TASK = aliased(HumanTask, name="open_sponsor_task")


@dataclass(frozen=True)
class NextStep:
    """What someone must do next on a case, and by when: a task, or a page of the service (``page``)."""

    text: str
    due_at: datetime | None = None
    task_id: str | None = None
    page: str | None = None


@dataclass(frozen=True)
class ApplicationRow:
    """One line of the applicant's dashboard."""

    application: Application
    type_name: str
    next_step: NextStep | None
    # In the sponsor's list: their answer once given, ``confirmed`` or ``declined``, and when.
    decision: SponsorDecision | None = None


@dataclass(frozen=True)
class SponsorDecision:
    """What the sponsor answered on a case, and when."""

    outcome: str  # "confirmed" or "declined"
    at: datetime


def my_applications(
    user: User, number: int = 1, per_page: int = 20, language: str | None = None
) -> Page[ApplicationRow]:
    """The user's applications, most recently changed first, with what they must do next."""
    number, per_page = page_bounds(number, per_page)
    # The studio's trial cases of an analyst who also applies stay in the studio.
    where = (Application.applicant_id == user.id) & Application.trial.is_(False)
    total = db.session.scalar(select(func.count()).select_from(Application).where(where)) or 0
    apps = db.session.scalars(
        select(Application)
        .options(lazyload(Application.definition))  # a list never needs the diagram version
        .where(where)
        .order_by(Application.updated_at.desc(), Application.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    steps = next_steps(apps, "applicant", language)
    rows = [ApplicationRow(a, _type_name(a.kitas_type, language, a.reference), steps.get(a.id)) for a in apps]
    return Page(rows, number, per_page, total)


def next_steps(applications: Sequence[Application], role: str, language: str | None = None) -> dict[int, NextStep]:
    """For each case: the open task of ``role`` (with its due time), else what its status asks of the
    applicant (paying, say) by the case's nearest deadline; in ``language``."""
    ids = [a.id for a in applications]
    if not ids:
        return {}
    found: dict[int, NextStep] = {}
    # No ORDER BY: sorting the few rows here lets the database use the per-case indexes.
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.application_id.in_(ids), HumanTask.role == role)).all()
    definitions = {a.id: a.definition_id for a in applications}
    names = names_by_definition(definitions.values(), language)
    for task in sorted(tasks, key=lambda t: (t.created_at, t.id)):
        name = task_name(task, names.get(definitions[task.application_id]))
        found.setdefault(task.application_id, NextStep(name, task.due_at, task.task_id))
    statuses = catalog(language)
    waiting = [
        a
        for a in applications
        if a.id not in found and role == "applicant" and statuses.status_text(a.status).applicant_action
    ]
    if waiting:
        deadlines = _deadlines([a.id for a in waiting])
        for application in waiting:
            text = statuses.status_text(application.status)
            found[application.id] = NextStep(
                text.applicant_action or "", deadlines.get(application.id), page=text.action_page
            )
    return found


def _deadlines(application_ids: list[int]) -> dict[int, datetime]:
    """The nearest pending interrupting deadline of each case."""
    timers = db.session.scalars(
        select(Timer).where(
            Timer.application_id.in_(application_ids), Timer.status == "pending", Timer.interrupting.is_(True)
        )
    ).all()
    nearest: dict[int, datetime] = {}
    for timer in timers:
        if timer.application_id not in nearest or timer.due_at < nearest[timer.application_id]:
            nearest[timer.application_id] = timer.due_at
    return nearest


def sponsor_requests(
    user: User, number: int = 1, per_page: int = 20, language: str | None = None
) -> Page[ApplicationRow]:
    """Applications naming the user's confirmed e-mail as sponsor, those awaiting a decision first."""
    number, per_page = page_bounds(number, per_page)
    if user.email_verified_at is None:
        return Page([], number, per_page, 0)  # an unconfirmed address names nobody's sponsor
    where = Application.sponsor_email == user.email.lower()
    total = db.session.scalar(select(func.count()).select_from(Application).where(where)) or 0
    open_task = _SPONSOR_TASK
    apps = db.session.scalars(
        select(Application)
        .options(selectinload(Application.applicant), lazyload(Application.definition))
        .outerjoin(open_task, (open_task.application_id == Application.id) & (open_task.role == "sponsor"))
        .where(where)
        .order_by(open_task.id.is_(None), Application.updated_at.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    steps = next_steps(apps, "sponsor", language)
    decisions = _sponsor_decisions(apps)
    rows = [
        ApplicationRow(
            a, _type_name(a.kitas_type, language, a.reference), _only_tasks(steps.get(a.id)), decisions.get(a.id)
        )
        for a in apps
    ]
    return Page(rows, number, per_page, total)


def sponsor_steps(definition_id: int) -> frozenset[str]:
    """The user tasks of a deployed version that the sponsor works: those of a lane whose role is ``sponsor``
    (the worker's ``sponsor_confirmation``, the family's ``family_sponsor_confirmation``...)."""
    definition = db.session.get(ProcessDefinition, definition_id)
    if definition is None:
        return frozenset()
    cat = catalog()
    tasks = process_model(definition).user_tasks
    return frozenset(element for element, info in tasks.items() if cat.role_for_lane(info.lane) == "sponsor")


def _sponsor_decisions(apps: Sequence[Application]) -> dict[int, SponsorDecision]:
    """The sponsor's answer on each case that has one: when the sponsor step was completed (its audit row);
    declined when the case ended there, confirmed otherwise."""
    if not apps:
        return {}
    by_id = {a.id: a for a in apps}
    steps = {definition: sponsor_steps(definition) for definition in {a.definition_id for a in apps}}
    rows = db.session.execute(
        select(AuditEvent.application_id, AuditEvent.occurred_at, AuditEvent.detail)
        .where(AuditEvent.application_id.in_(by_id), AuditEvent.action == "task_completed")
        .order_by(AuditEvent.seq)
    ).all()
    found: dict[int, SponsorDecision] = {}
    for application_id, occurred_at, detail in rows:
        if application_id is None or (detail or {}).get("task") not in steps[by_id[application_id].definition_id]:
            continue
        outcome = "declined" if by_id[application_id].status == "sponsor_declined" else "confirmed"
        found[application_id] = SponsorDecision(outcome, occurred_at)
    return found


def open_tasks(application_id: int) -> list[HumanTask]:
    """The open tasks of one case, oldest first."""
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.application_id == application_id)).all()
    return sorted(tasks, key=lambda t: (t.created_at, t.id))


def case_deadline(application_id: int) -> Timer | None:
    """The nearest interrupting deadline the case waits on (payment or correction), if any."""
    timers = db.session.scalars(
        select(Timer).where(
            Timer.application_id == application_id,
            Timer.status == "pending",
            or_(Timer.interrupting.is_(True), Timer.attached_to.is_(None)),
        )
    ).all()
    return min(timers, key=lambda t: t.due_at, default=None)


def _only_tasks(step: NextStep | None) -> NextStep | None:
    return step if step is not None and step.task_id is not None else None


def _type_name(code: str, language: str | None = None, reference: str | None = None) -> str:
    """``Family KITAS (E31B)``: the type with the index its case is for, which the register number starts
    with (the catalog's default index without a case, or for a reference that names none of the type's)."""
    try:
        entry = catalog(language).by_code(code)
    except KeyError:
        return code
    codes = {index.code for index in entry.index_codes}
    prefix = (reference or "").split("-", 1)[0]
    return f"{entry.name} ({prefix if prefix in codes else entry.index_code})"
