"""The case unit of work: every change to a case is one step through here, in one transaction.

A step locks the case row (PostgreSQL: ``FOR UPDATE``; SQLite: the write lock of
``BEGIN IMMEDIATE``), loads the case and its pinned definition once, restores the engine
runtime at most once, checks who may act, runs the change, and at the end saves the
state, brings the ``human_task`` and ``timer`` projections up to date, appends the
audit rows and queues the notifications. Nothing else locks, restores or saves a case.

It is the hot path, so it is written for speed: the projections are written with one
Core statement per table and change, and the runtime a step leaves behind is kept in
process memory and reused by the next step of the same case as long as the case row's
version counter (and its reference and definition) show that nobody else changed it.

A NotFound or Forbidden that leaves a step is written to the audit trail as a refused
access after the step's transaction rolled back, when the step names its user.

An engine task that fails while the case runs on (a script after a form, a timer or a
message) does not roll the step back: the case is saved as far as it got, the failed task
waits in ERROR, and an incident is opened in the same transaction. A failure that leaves
nothing to keep (the step's own task failed) rolls the step back (CaseCannotGoOn), and its
incident is opened after the rollback.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine import (
    CaseRuntime,
    EngineError,
    FailedStep,
    ProcessModel,
    ScriptError,
    StateError,
)
from forms.texts import Message
from workflows import catalog

from ...extensions import app_clock, db
from ...models import Application, AuditEvent, HumanTask, ProcessDefinition, Timer, User
from ...transactions import is_postgres, write_transaction
from .. import audit
from ..accounts.fields import normalize_email
from ..audit.refusals import audited_refusals
from ..deployments import process_model
from ..errors import CaseCannotGoOn, CaseStateUnreadable, Conflict, Forbidden, NotFound
from ..incidents import records as incidents
from ..permits import issuance as permits
from . import invitation_mail, notices
from .access import OFFICER_ROLES, can_see_case, is_named_sponsor, trial_owner
from .engine_errors import cannot_go_on, service_error
from .four_eyes import YOU_VERIFIED, barred, they_verified
from .invitation_mail import INVITED
from .milestones import OfficerDecision, record_milestones
from .projections import sync_projections
from .search_columns import case_columns
from .sponsor_limits import sponsor_kind_of
from .summary import described

T = TypeVar("T")
# Who holds a task when their account is gone (a parameter of a Conflict, translated with it).
ANOTHER_OFFICER = Message("another officer")
# Deciding an officer's task that nobody claimed (the page offers "Start working on this").
NOT_CLAIMED = Message("nobody is working on this task yet: choose 'Start working on this' first, then decide")
_SEARCH_COLUMNS = ("applicant_name", "name_search", "passport_number", "index_code")


class CaseStep:
    """One case, locked for one step: its row, its model, its runtime (restored on first use)."""

    def __init__(self, application: Application | None, now: datetime):
        self.application: Application = application  # type: ignore[assignment]  # set by create() for a new case
        self.now = now
        self._runtime: CaseRuntime | None = None
        self._tasks: dict[str, HumanTask] | None = None
        self._changed = False
        self._before: tuple[set[str], set[str]] | None = None  # READY task and pending timer ids before the step
        self._after: tuple[set[str], set[str]] = (set(), set())
        self._created = False
        self._audits: list[tuple[str, dict[str, Any], User | None, str | None]] = []
        self._identity: tuple[int, str, str, int] | None = None  # what the runtime cache checks, once saved
        self.stopped: list[FailedStep] = []  # engine tasks this step left waiting in ERROR (each an incident)
        self._moved_to: ProcessDefinition | None = None

    # -- what the step works on ---------------------------------------------------

    @property
    def model(self) -> ProcessModel:
        """The parsed diagram of the version this case is pinned to."""
        return process_model(self.application.definition)

    @property
    def runtime(self) -> CaseRuntime:
        """The case's engine runtime, restored (or taken from the cache) once per step."""
        if self._runtime is None:
            cached = _take_cached(self.application)
            if cached is not None:
                self._runtime, self._before = cached  # what the projections hold is known with it
            else:
                self._runtime = _restore(self.application)
        return self._runtime

    def tasks(self) -> dict[str, HumanTask]:
        """The case's open task rows by task id, as they are now that the case is locked."""
        if self._tasks is None:
            if is_postgres():
                # Read after the lock was granted: a row lock waited for gives the locked row's new version, but
                # rows joined to it in the same statement would still be those of before the wait.
                query = (
                    select(HumanTask)
                    .where(HumanTask.application_id == self.application.id)
                    .execution_options(populate_existing=True)
                )
                rows = list(db.session.scalars(query))
            else:  # SQLite: the write lock was taken before the case was read, so the joined rows are current
                rows = self.application.open_tasks
            self._tasks = {row.task_id: row for row in rows}
        return self._tasks

    def open_task(self, task_id: str) -> HumanTask:
        """The open task row, or a Conflict saying who completed it and when (or that it was cancelled)."""
        task = self.tasks().get(task_id)
        if task is None:
            raise closed_task_conflict(self.application.id, task_id)
        return task

    # -- checks --------------------------------------------------------------------

    def check_access(self, user: User) -> None:
        """NotFound unless the user may see this case."""
        if not can_see_case(self.application, user):
            raise NotFound(Message("there is no such application"))

    def check_lane(self, task: HumanTask, user: User) -> None:
        """Forbidden unless the user works the task's lane (and, for the applicant's or sponsor's part, is them)."""
        check_lane(self.application, task, user)

    def check_claim(self, task: HumanTask, user: User) -> None:
        """Conflict unless the user may decide the task: an officer's task must be claimed by them
        (``NOT_CLAIMED``), nobody decides a task another officer holds, and nobody one the diagram's
        four-eyes rule keeps them from (``check_four_eyes``). The analyst of a trial case needs no claim."""
        if trial_owner(self.application, user):
            return
        self.check_four_eyes(task, user)
        if task.claimed_by_id is None and task.role in OFFICER_ROLES:
            raise Conflict(NOT_CLAIMED)
        if task.claimed_by_id is not None and task.claimed_by_id != user.id:
            claimer = db.session.get(User, task.claimed_by_id)
            raise Conflict(
                Message("this task is claimed by %(officer)s", officer=claimer.label if claimer else ANOTHER_OFFICER)
            )

    def check_four_eyes(self, task: HumanTask, user: User, *, assigning: bool = False) -> None:
        """Conflict when the diagram's four-eyes rule keeps the user from this task (they did a step it names);
        ``assigning``: the refusal names them, for the supervisor giving them the task."""
        if task.role not in OFFICER_ROLES or not self.model.not_by_performer_of or self.application.trial:
            return  # a trial case's analyst acts in every role: four eyes cannot hold there
        if barred(self.runtime.not_by(task.task_id), user):
            raise Conflict(they_verified(user) if assigning else YOU_VERIFIED)

    def check_version(self, expected: int | None) -> None:
        """Conflict when the case changed since the page that posted was opened."""
        if expected is not None and expected != self.application.version:
            raise Conflict(Message("the case changed since you opened it; reload the page to see the latest state"))

    # -- changing ------------------------------------------------------------------

    def run(self, action: Callable[[CaseRuntime], T]) -> T | None:
        """Run an engine action on the runtime; engine errors become service errors naming the case.

        When engine tasks fail as the case runs on after the action's own change, the case is kept as far
        as it got and None is returned: each failed task waits in ERROR and becomes an incident when the
        step is saved (``stopped``). Any other script failure rolls the step back (CaseCannotGoOn).
        """
        runtime = self.runtime
        if self._before is None:
            self._before = _projected(runtime)
        self._changed = True
        return self._engine_call(runtime, action, self.application.reference, self.application.id)

    def run_first(self, runtime: CaseRuntime) -> None:
        """Run a new case's runtime to its first wait, before ``create``; a failure is kept as in ``run``."""
        self._engine_call(runtime, lambda r: r.run_engine(), "new case", None)

    def _engine_call(
        self, runtime: CaseRuntime, action: Callable[[CaseRuntime], T], reference: str, application_id: int | None
    ) -> T | None:
        try:
            return action(runtime)
        except ScriptError as exc:
            if not runtime.stopped:
                raise cannot_go_on(exc, reference, application_id) from exc
            self.stopped.extend(runtime.stopped)
            return None
        except EngineError as exc:
            raise service_error(exc, reference) from exc

    def move_to(self, definition: ProcessDefinition) -> None:
        """Move the case to another deployed version of its process; Conflict names what that version lacks."""
        runtime = self.runtime
        if self._before is None:
            self._before = _projected(runtime)
        try:
            self._runtime = runtime.move_to(process_model(definition), self.application.reference)
        except StateError as exc:
            raise Conflict(str(exc)) from exc
        self._moved_to = definition
        self._changed = True

    def close_trial(self, status: str) -> None:
        """Close a trial case that its analyst discards: its open task rows and pending timers go, the row
        keeps its state (and audit trail) with ``status`` and a closing time. A real case is never closed so."""
        application = self.application
        if not application.trial or application.closed_at is not None:
            raise Conflict(Message("only an open trial case can be discarded"))
        tasks, timers = HumanTask.__table__, Timer.__table__
        db.session.execute(delete(tasks).where(tasks.c.application_id == application.id))
        db.session.execute(
            update(timers)
            .where(timers.c.application_id == application.id, timers.c.status == "pending")
            .values(status="cancelled", note="the trial was discarded")
        )
        _store_case(application, {"status": status, "closed_at": self.now, "updated_at": self.now})

    def audit(self, action: str, detail: dict[str, Any], *, user: User | None = None, actor: str | None = None) -> None:
        """Queue an audit row about this case (its reference is added to the detail); written by save()."""
        self._audits.append((action, {"case": self.application.reference, **detail}, user, actor))

    def create(self, application: Application, runtime: CaseRuntime) -> None:
        """Make this the step that starts a new case: insert its row with the runtime's first state."""
        application.workflow_state, application.state_format = runtime.dump()
        application.status = runtime.status() or application.status
        application.sponsor_kind = sponsor_kind_of(application.kitas_type, runtime.data)
        for key, value in case_columns(runtime.data).items():
            setattr(application, key, value)
        db.session.add(application)
        db.session.flush()
        self.application, self._runtime = application, runtime
        self._before, self._changed, self._created = (set(), set()), True, True

    def save(self) -> None:
        """Store the new state and status, write the audit rows, sync the projections, queue notifications.

        The case row and the audit rows are written as Core statements (one UPDATE checked against the
        version counter, one INSERT for all audit rows); the loaded case object is then marked as stored.
        """
        application = self.application
        previous_status = application.status
        values = self._new_values(application) if self._changed and not self._created else None
        invite = None
        link = None
        if values is not None and values["status"] != previous_status and not application.trial:
            invite = _invitation_due(values["status"], values.get("sponsor_email", application.sponsor_email))
            if invite:
                self._audits.append((INVITED, {"case": application.reference, "email": invite}, None, "system"))
            if values["status"] == permits.ISSUED_STATUS and not application.trial:  # no permit from a trial
                link = self._issue_permit(application)
        for failed in self.stopped:
            self._audits.append(
                ("incident_opened", {"case": application.reference, **_failure_detail(failed)}, None, "engine")
            )
        head = {"audit_seq": application.audit_seq, "audit_hash": application.audit_hash}
        actor_id, decisions = self._deciders()
        if self._audits:
            head["audit_seq"], head["audit_hash"] = audit.append_to_case(application, self._audits)
            self._audits.clear()
        if not self._changed or self._created:
            _store_audit_head(application, head)  # an audit row alone is no change of the case: the version stays
        else:
            _store_case(application, {**(values or {}), **head})
        for failed in self.stopped:
            incidents.open_incident(
                application_id=application.id,
                element_id=failed.element_id,
                kind=incidents.kind_of(failed.error) if failed.error else "script_error",
                error=str(failed.error or "failed"),
                now=self.now,
            )
        definition = application.definition
        self._identity = (application.id, application.reference, definition.content_hash, application.version)
        if not self._changed:
            if self._runtime is not None and self._before is None:  # read only: known for the next step too
                self._before = _projected(self._runtime)
            self._after = self._before or self._after
            return
        before_tasks, before_timers = self._before or (set(), set())
        self._after = sync_projections(application, self.runtime, self.now, before_tasks, before_timers)
        if application.trial:
            return  # a trial case of the studio: no statistics, and it tells nobody anything
        closed = values is not None and "closed_at" in values
        record_milestones(application, previous_status, self.now, actor_id, decisions, closed)
        if application.status != previous_status:
            notices.status_changed(application, application.status, previous_status, link=link)
        if invite:
            invitation_mail.queue_invitation(application, invite)

    def _deciders(self) -> tuple[int | None, list[OfficerDecision]]:
        """Who acted in this step (the last person its audit rows name) and the officers' tasks it completed."""
        actor_id = next((user.id for _, _, user, _ in reversed(self._audits) if user is not None), None)
        tasks = self._tasks or {}
        decisions = [
            OfficerDecision(actor_id=user.id, element_id=task.element_id)
            for action, detail, user, _ in self._audits
            if action == "task_completed" and user is not None
            for task in [tasks.get(str(detail.get("task_id")))]
            if task is not None and task.role in OFFICER_ROLES
        ]
        return actor_id, decisions

    def _issue_permit(self, application: Application) -> str:
        """Create the case's permit in this step (once) and audit it; returns the path its holder downloads it at."""
        permit, created = permits.issue_for_case(application, self.runtime.data, self.now)
        if created:
            detail = {
                "case": application.reference,
                "permit": permit.number,
                "valid_from": permit.valid_from.isoformat(),
                "valid_until": permit.valid_until.isoformat(),
                "office": permit.office,
            }
            self._audits.append(("permit_issued", detail, None, "system"))
        return permits.download_path(application.reference)

    def _new_values(self, application: Application) -> dict[str, Any]:
        """The case row's columns after this step: state, status and what the case data says of it."""
        runtime = self.runtime
        state, state_format = runtime.dump()
        status = runtime.status() or application.status
        values: dict[str, Any] = {
            "workflow_state": state,
            "state_format": state_format,
            "status": status,
            "status_detail": _status_detail(status, application, runtime.data),
            "updated_at": self.now,
        }
        if self._moved_to is not None:
            values["definition_id"] = self._moved_to.id
            set_committed_value(application, "definition", self._moved_to)
        sponsor_email = runtime.data.get("sponsor_email")
        # A trial case names no sponsor: a real sponsor of the address typed must never see it.
        if isinstance(sponsor_email, str) and sponsor_email.strip() and not application.trial:
            values["sponsor_email"] = normalize_email(sponsor_email)
        kind = sponsor_kind_of(application.kitas_type, runtime.data)
        if kind != application.sponsor_kind:
            values["sponsor_kind"] = kind
        current = {key: getattr(application, key) for key in _SEARCH_COLUMNS}
        values.update(case_columns(runtime.data, current))
        if runtime.completed and application.closed_at is None:
            values["closed_at"] = self.now
        return values


@contextmanager
def case_step(application_id: int, *, user: User | None = None, **refusal_detail: Any) -> Iterator[CaseStep]:
    """Lock a case and run one step on it in one transaction; saved at the end unless an error leaves the block.

    With ``user``, a NotFound or Forbidden leaving the block is audited as a refused access (after
    the rollback). A concurrent change detected at save time becomes a Conflict.
    """
    if user is not None:
        with audited_refusals(user, "application", application_id, **refusal_detail):
            with _step(application_id) as step:
                yield step
    else:
        with _step(application_id) as step:
            yield step


@contextmanager
def new_case_step() -> Iterator[CaseStep]:
    """A step that starts a new case: the block calls ``step.create(application, runtime)``."""
    with _step(None) as step:
        yield step


@contextmanager
def new_case_batch() -> Iterator[Callable[[], AbstractContextManager[CaseStep]]]:
    """Several new cases started in ONE transaction (a group application): all of them, or none.

    The block gets a factory; each ``with one() as step:`` starts one case (``step.create``) and saves it.
    """

    @contextmanager
    def one() -> Iterator[CaseStep]:
        step = CaseStep(None, now)
        yield step
        step.save()

    try:
        with write_transaction():
            now = app_clock().now()
            yield one
    except CaseCannotGoOn as failure:
        incidents.record_after_rollback(failure)
        raise


@contextmanager
def _step(application_id: int | None) -> Iterator[CaseStep]:
    try:
        with write_transaction():
            now = app_clock().now()
            step = CaseStep(lock_case(application_id) if application_id is not None else None, now)
            yield step
            step.save()
    except StaleDataError as exc:
        raise Conflict(
            Message("someone else changed the case at the same moment; nothing was saved, please retry")
        ) from exc
    except CaseCannotGoOn as failure:
        incidents.record_after_rollback(failure)  # the step's own transaction is over: this one is the incident's
        raise
    if step._identity is not None and step._runtime is not None:
        _keep_cached(step._identity, step._runtime, step._after)


def _projected(runtime: CaseRuntime) -> tuple[set[str], set[str]]:
    """The READY task ids and pending timer ids the projections of a case hold for this runtime."""
    return {t.task_id for t in runtime.ready_user_tasks()}, {t.task_id for t in runtime.pending_timers()}


def _store_case(application: Application, values: dict[str, Any]) -> None:
    """One UPDATE of the case row, guarded by its version counter (a concurrent change is StaleDataError)."""
    version = application.version
    values = {**values, "version": version + 1}
    result = db.session.execute(
        update(Application.__table__)
        .where(Application.__table__.c.id == application.id, Application.__table__.c.version == version)
        .values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleDataError(f"case {application.reference} was changed by another step (version {version})")
    _mark_stored(application, values)


def _store_audit_head(application: Application, head: dict[str, Any]) -> None:
    """Store the case's audit head alone, without touching its version counter."""
    if (head["audit_seq"], head["audit_hash"]) == (application.audit_seq, application.audit_hash):
        return
    table = Application.__table__
    db.session.execute(update(table).where(table.c.id == application.id).values(**head))
    _mark_stored(application, head)


def _mark_stored(application: Application, values: dict[str, Any]) -> None:
    """Tell the session the loaded case already holds these stored values (nothing left to flush)."""
    for key, value in values.items():
        set_committed_value(application, key, value)


def lock_case(application_id: int) -> Application:
    """Load a case for writing (row-locked on PostgreSQL; SQLite's write lock is already held)."""
    query = select(Application).where(Application.id == application_id).execution_options(populate_existing=True)
    if is_postgres():
        query = query.with_for_update(of=Application)
    else:
        query = query.options(joinedload(Application.open_tasks))  # one statement for the case and its tasks
    application = db.session.scalars(query).unique().one_or_none()  # every row: they carry the tasks
    if application is None:
        raise NotFound(Message("there is no such application"))
    return application


def anonymise_closed_case(application_id: int, rewrite: Callable[[Application], dict[str, Any]]) -> Application:
    """Store the columns ``rewrite`` gives for a CLOSED case (its state without the personal data, when an
    account is erased), inside the caller's transaction: locked, version-checked and bumped, its cached
    runtime dropped. Nothing runs on a closed case any more, so its state is only read from now on."""
    application = lock_case(application_id)
    if application.closed_at is None:
        raise Conflict(Message("Case %(reference)s is still open.", reference=application.reference))
    _store_case(application, rewrite(application))
    with _CACHE_LOCK:
        _CACHE.pop((id(db.engine), application.id), None)
    return application


def backfill_search_columns() -> int:
    """Fill the search columns of open cases that have none yet (saved before they existed), one case
    step each: the state is read, only those columns are written (the version stays). Returns how many."""
    ids = db.session.scalars(
        select(Application.id).where(Application.closed_at.is_(None), Application.name_search.is_(None))
    ).all()
    db.session.rollback()
    filled = 0
    for application_id in ids:
        with case_step(application_id) as step:
            current = {key: getattr(step.application, key) for key in _SEARCH_COLUMNS}
            values = case_columns(step.runtime.data, current)
            if values:
                table = Application.__table__
                db.session.execute(update(table).where(table.c.id == application_id).values(**values))
                _mark_stored(step.application, values)
                filled += 1
    return filled


def check_lane(application: Application, task: HumanTask, user: User) -> None:
    """Refuse (Forbidden) a task of a lane the user does not work in, or of someone else's part; the
    analyst of a trial case works every lane of it (and a task outside any lane)."""
    if trial_owner(application, user):
        return
    role = task.role
    reason = None
    if not role or not user.has_role(role):
        reason = Message(
            "the task '%(task)s' is for the %(lane)s lane (role %(role)s), which you do not have",
            task=task.name,
            lane=task.lane,
            role=role or "none",
        )
    elif role == "applicant" and application.applicant_id != user.id:
        reason = Message(
            "the task '%(task)s' is for the applicant of %(reference)s", task=task.name, reference=application.reference
        )
    elif role == "sponsor" and not is_named_sponsor(application, user):
        reason = Message(
            "the task '%(task)s' is for the sponsor named in %(reference)s, with a confirmed address",
            task=task.name,
            reference=application.reference,
        )
    if reason is not None:
        raise Forbidden(reason)


def closed_task_conflict(application_id: int, task_id: str) -> Conflict:
    """The Conflict for a task that is no longer open: who completed it and when, or that it was cancelled."""
    done = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.application_id == application_id, AuditEvent.action == "task_completed")
        .order_by(AuditEvent.id.desc())
    )
    for row in done:
        if row.detail.get("task_id") == task_id:
            return Conflict(
                Message(
                    "this task was already completed by %(actor)s at %(when)s", actor=row.actor, when=row.occurred_at
                )
            )
    return Conflict(Message("this task is no longer open (it was cancelled or never existed in this case)"))


def _failure_detail(failed: FailedStep) -> dict[str, Any]:
    return {"element": failed.element_id, "task_id": failed.task_id, "error": str(failed.error or "failed")[:500]}


def _restore(application: Application) -> CaseRuntime:
    """Restore the engine runtime of a case from its stored state; a damaged state is reported, never reset."""
    model = process_model(application.definition)
    try:
        return CaseRuntime.restore(
            model, application.workflow_state, application.state_format, application.reference, app_clock()
        )
    except StateError as exc:
        raise CaseStateUnreadable(str(exc)) from exc


def read_runtime(application: Application) -> CaseRuntime:
    """A runtime to READ a case from (pages, listings): restored from the stored state, never the cached one."""
    return _restore(application)


def _invitation_due(status: str, sponsor_email: str | None) -> str | None:
    """The address to invite when a case reaches ``status``: one that asks the sponsor to act and names
    an address no account has yet."""
    if not sponsor_email or not catalog().status_text(status).notify_sponsor:
        return None
    return sponsor_email if invitation_mail.needs_invitation(sponsor_email) else None


def _status_detail(status: str, application: Application, data: dict[str, Any]) -> str | None:
    cat = catalog()
    detail = cat.status_reason(status, data)
    fields = cat.status_details.get(status)
    if detail is None and fields:
        detail = described(application, data, fields)
    return detail[:500] if detail else None


# -- the runtime a step leaves behind, reused by the case's next step -------------------

_CACHE_LOCK = threading.Lock()
# (engine, case id) -> ((case id, reference, definition hash, version), runtime). The engine is part of
# the key because one process may serve several databases (tests, benchmarks); the reference (random)
# tells a recreated case from an old one with the same id; the version counter, any change since.
Projected = tuple[set[str], set[str]]  # the READY task ids and pending timer ids the projections hold
_CACHE: OrderedDict[tuple[int, int], tuple[tuple[int, str, str, int], CaseRuntime, Projected]] = OrderedDict()


def _take_cached(application: Application) -> tuple[CaseRuntime, Projected] | None:
    """The runtime the case's previous step left, if nothing changed the case since (it is taken, not shared)."""
    if not current_app.config.get("KITAS_RUNTIME_CACHE", 0):
        return None
    with _CACHE_LOCK:
        entry = _CACHE.pop((id(db.engine), application.id), None)
    if entry is None:
        return None
    identity, runtime, projected = entry
    current = (application.id, application.reference, application.definition.content_hash, application.version)
    return (runtime, projected) if identity == current else None


def _keep_cached(identity: tuple[int, str, str, int], runtime: CaseRuntime, projected: Projected) -> None:
    """Keep the runtime of a committed step for the case's next step (least recently used go first)."""
    size = int(current_app.config.get("KITAS_RUNTIME_CACHE", 0))
    if size <= 0:
        return
    key = (id(db.engine), identity[0])
    with _CACHE_LOCK:
        _CACHE[key] = (identity, runtime, projected)
        _CACHE.move_to_end(key)
        while len(_CACHE) > size:
            _CACHE.popitem(last=False)
