"""Try a draft: its content stored as a trial version, and sandbox cases on it that the analyst steps
through in every role from the studio.

A trial case (``Application.trial``) is its analyst's alone (``cases.access.can_see_case``): it has NO
office, so no officer's inbox, count, search, dashboard figure, late list or appointment list holds it
(an admin's every-office views leave out ``offices.scope.trial_case_ids``); it records no statistics
milestones, queues no notification (no e-mail, SMS or in-app message to anyone, the analyst included),
names no sponsor, takes no place in an office's appointment times and issues no permit. The analyst
acts in every lane (claims and four eyes do not apply: she is every officer at once); the payment step
is paid as the sandbox bank would confirm it, and timers can be fired at once. Discarding a trial
closes its cases (their audit trail stays: it is hash-chained).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from forms.texts import Message
from workflows import catalog

from ...extensions import db
from ...models import Application, HumanTask, ProcessDefinition, StudioDraft, Timer, User
from ...transactions import is_postgres
from ..cases.lifecycle import INDEX_FIELD, start_in_step
from ..cases.timers import fire_in_step
from ..cases.unit_of_work import case_step, new_case_step, read_runtime
from ..deployments import deploy_trial, element_names
from ..errors import Conflict, DeploymentRefused, NotFound, ServiceError
from .drafts import get_draft

PAYMENT_MESSAGE = "payment_received"  # what the sandbox bank's notice delivers to a case (payments/webhooks.py)
DISCARDED = "trial_discarded"
# Shown for a role no lane of the catalog maps (a task outside any lane): the analyst does it.
NO_ROLE = "analyst"


class TryRefused(ServiceError):
    """The draft cannot run: every problem, each naming its element or file."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(Message("This version cannot be tried yet: %(count)s problems.", count=len(problems)))


@dataclass(frozen=True)
class TrialTask:
    """A ready task of a trial case and the role the analyst does it in."""

    task_id: str
    element_id: str
    name: str
    lane: str
    role: str


@dataclass(frozen=True)
class TrialTimer:
    """A timer the trial case waits on."""

    timer_id: int
    element_id: str
    name: str
    due_at: datetime
    attached_to: str | None


@dataclass
class TrialPage:
    """What the trial page shows: the case, its version, its ready tasks, its timers, the payment."""

    application: Application
    definition: ProcessDefinition
    draft_id: int | None
    tasks: list[TrialTask] = field(default_factory=list)
    timers: list[TrialTimer] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)  # messages it waits on
    fee: int | None = None  # the payment step waits: the amount the sandbox bank pays

    @property
    def can_pay(self) -> bool:
        """The case waits for the payment's notice."""
        return PAYMENT_MESSAGE in self.waiting_for


@dataclass(frozen=True)
class TrialRow:
    """One of the analyst's trial cases of a process, in the draft's list."""

    reference: str
    status: str
    version: int
    created_at: datetime
    closed_at: datetime | None


def try_draft(draft_id: int, user: User) -> Application:
    """Store the draft's content as a trial version and start a trial case on it for ``user`` (the analyst
    is its applicant). ``TryRefused`` lists what keeps the version from running, element by element."""
    draft = get_draft(draft_id)
    if draft.status != "open":
        raise NotFound(Message("there is no open draft %(id)s", id=draft_id))
    try:
        definition = deploy_trial(draft.bpmn_xml, dict(draft.files), user, process_id=draft.process_id)
    except DeploymentRefused as exc:
        raise TryRefused(list(exc.problems)) from exc
    kitas_type, index_code = _type_of(definition.process_id)
    known = {"full_name": user.full_name, "email": user.email, "phone": user.phone, "nationality": user.nationality}
    data: dict[str, Any] = {
        "kitas_type": kitas_type,
        **{key: value for key, value in known.items() if value},
        INDEX_FIELD: index_code,
    }
    with new_case_step() as step:
        start_in_step(
            step,
            definition.process_id,
            user,
            kitas_type=kitas_type,
            index_code=index_code,
            data=data,
            trial=definition,
        )
        step.audit("trial_started", {"draft": draft.id, "version": definition.version}, user=user)
    return step.application


def _type_of(process_id: str) -> tuple[str, str]:
    """The KITAS type and index code a trial of the process runs as (a process of no type: its id)."""
    for entry in catalog().types:
        if entry.process_id == process_id:
            return entry.code, entry.index_code
    return process_id[:32], "TRY"


def trial_case(reference: str, user: User) -> Application:
    """The analyst's own trial case with this reference (NotFound for anyone else's, or a real case)."""
    application = db.session.scalars(select(Application).where(Application.reference == reference)).first()
    if application is None or not application.trial or application.applicant_id != user.id:
        raise NotFound(Message("there is no trial case %(reference)s of yours", reference=reference[:40]))
    return application


def trial_page(reference: str, user: User, language: str | None = None) -> TrialPage:
    """The trial case's page: status, ready tasks with their lane and role, timers, the payment step."""
    application = trial_case(reference, user)
    definition = application.definition
    names = element_names(definition, language)
    lanes = catalog()
    tasks = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application.id).order_by(HumanTask.id)
    ).all()
    timers = db.session.scalars(
        select(Timer).where(Timer.application_id == application.id, Timer.status == "pending").order_by(Timer.due_at)
    ).all()
    page = TrialPage(application, definition, _draft_of(definition.process_id))
    page.tasks = [
        TrialTask(
            t.task_id,
            t.element_id,
            names.get(t.element_id, t.name),
            t.lane,
            t.role or lanes.role_for_lane(t.lane) or NO_ROLE,
        )
        for t in tasks
    ]
    page.timers = [
        TrialTimer(t.id, t.element_id, names.get(t.element_id, t.element_id), t.due_at, t.attached_to) for t in timers
    ]
    if application.closed_at is None:
        runtime = read_runtime(application)
        page.waiting_for = runtime.waiting_messages()
        fee = runtime.data.get("fee_amount")
        page.fee = fee if isinstance(fee, int) else None
    return page


def _draft_of(process_id: str) -> int | None:
    """The open draft of the process (the most recently saved), where the trial page leads back to."""
    return db.session.scalar(
        select(StudioDraft.id)
        .where(StudioDraft.process_id == process_id, StudioDraft.status == "open")
        .order_by(StudioDraft.updated_at.desc())
        .limit(1)
    )


def trials_of_draft(draft_id: int, user: User) -> list[TrialRow]:
    """The analyst's trial cases of the draft's process, newest first."""
    draft = get_draft(draft_id)
    rows = db.session.execute(
        select(Application, ProcessDefinition.version)
        .join(ProcessDefinition, ProcessDefinition.id == Application.definition_id)
        .where(
            Application.trial.is_(True),
            Application.applicant_id == user.id,
            ProcessDefinition.process_id == draft.process_id,
        )
        .order_by(Application.created_at.desc(), Application.id.desc())
    ).all()
    return [TrialRow(a.reference, a.status, version, a.created_at, a.closed_at) for a, version in rows]


def fire_timer_now(reference: str, timer_id: int, user: User) -> str:
    """Fire a pending timer of the analyst's trial case now (the sandbox only): ``fired``, or ``stale`` when
    the case no longer waited on it. Conflict when it already fired or was cancelled."""
    application = trial_case(reference, user)
    with case_step(application.id, user=user) as step:
        query = select(Timer).where(Timer.id == timer_id, Timer.application_id == application.id)
        if is_postgres():
            query = query.with_for_update()
        timer = db.session.scalars(query.execution_options(populate_existing=True)).first()
        if timer is None:
            raise NotFound(Message("the trial case has no such timer"))
        if timer.status != "pending":
            raise Conflict(Message("this timer no longer waits: it fired or was cancelled"))
        return fire_in_step(step, timer, user=user)


def pay_trial(reference: str, user: User) -> Application:
    """Pay the trial case's bill as the sandbox bank confirms a payment: the payment step's message, with
    the case's own fee. Nothing reaches a payment provider. Conflict when the case does not wait for it."""
    application = trial_case(reference, user)
    with case_step(application.id, user=user) as step:
        if PAYMENT_MESSAGE not in step.runtime.waiting_messages():
            raise Conflict(Message("the trial case is not waiting for a payment"))
        fee = step.runtime.data.get("fee_amount")
        payload = {
            "billing_code": f"TRIAL-{application.id}",
            "amount": fee if isinstance(fee, int) else 0,
            "paid_at": step.now.isoformat(),
        }
        paid = {"billing_code": payload["billing_code"], "amount": payload["amount"], "trial": True}
        step.audit("payment_confirmed", paid, user=user)
        step.run(lambda runtime: runtime.deliver_message(PAYMENT_MESSAGE, payload))
        step.audit("message_delivered", {"message": PAYMENT_MESSAGE, "fields": sorted(payload)}, actor="sandbox-bank")
    return step.application


def discard_trials(draft_id: int, user: User) -> int:
    """Close the analyst's open trial cases of the draft's process (their tasks and timers go; the case rows
    and their audit trail stay, marked discarded). Returns how many were closed."""
    open_ones = [row.reference for row in trials_of_draft(draft_id, user) if row.closed_at is None]
    for reference in open_ones:
        application = trial_case(reference, user)
        with case_step(application.id, user=user) as step:
            step.close_trial(DISCARDED)
            step.audit("trial_discarded", {"draft": draft_id}, user=user)
    return len(open_ones)
