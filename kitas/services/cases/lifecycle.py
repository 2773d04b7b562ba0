"""Start cases, complete their tasks and deliver messages to them: one transaction per step."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

import forms
from engine import CaseRuntime, EngineError, NotWaiting, ScriptError, StateError, TaskNotReady
from workflows import catalog

from ...extensions import app_clock, db
from ...localtime import local_time
from ...models import Application, AuditEvent, HumanTask, User
from ...transactions import is_postgres, write_transaction
from .. import audit
from ..audit import refusals
from ..deployments import definition_form, latest_definition, process_model
from ..errors import CaseStateUnreadable, Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from . import notices as case_notifications
from .access import can_see_case, is_named_sponsor
from .projections import sync_projections
from .summary import described

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference(index_code: str, year: int) -> str:
    """A register number that cannot be guessed from another one: ``E23-2026-7KQ2M9XA``."""
    suffix = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{index_code}-{year}-{suffix}"


def start_case(
    kitas_type: str, applicant: User, *, sponsor_email: str | None = None, data: dict[str, Any] | None = None
) -> Application:
    """Start a case of a KITAS type on the newest deployed version of its diagram."""
    try:
        entry = catalog().by_code(kitas_type)
    except KeyError as exc:
        raise NotFound(f"there is no KITAS type {kitas_type!r}") from exc
    if entry.process_id is None:
        raise NotFound(f"{entry.name_en} ({entry.index_code}) cannot be applied for online yet")
    initial = {"kitas_type": entry.code, "index_code": entry.index_code, **_profile(applicant), **(data or {})}
    return start_process(
        entry.process_id,
        applicant,
        kitas_type=entry.code,
        index_code=entry.index_code,
        sponsor_email=sponsor_email,
        data=initial,
    )


def _profile(user: User) -> dict[str, Any]:
    """What the account already says about the applicant, so the first form starts filled in."""
    known = {"full_name": user.full_name, "email": user.email, "phone": user.phone, "nationality": user.nationality}
    return {key: value for key, value in known.items() if value}


def start_process(
    process_id: str,
    applicant: User,
    *,
    kitas_type: str,
    index_code: str,
    sponsor_email: str | None = None,
    data: dict[str, Any] | None = None,
) -> Application:
    """Start a case of any deployed process (the catalog-free core of start_case)."""
    with write_transaction():
        definition = latest_definition(process_id)
        if definition is None:
            raise ServiceError(f"the process {process_id} is not deployed; run 'kitas init'")
        now = app_clock().now()
        runtime = guard_engine(
            lambda: CaseRuntime.start(process_model(definition), dict(data or {}), app_clock()), "new case"
        )
        state, state_format = runtime.dump()
        application = Application(
            reference=new_reference(index_code, now.year),
            kitas_type=kitas_type,
            applicant_id=applicant.id,
            sponsor_email=(sponsor_email or "").strip().lower() or None,
            definition_id=definition.id,
            status=runtime.status() or "draft",
            workflow_state=state,
            state_format=state_format,
            created_at=now,
            updated_at=now,
        )
        db.session.add(application)
        db.session.flush()
        sync_projections(application, runtime, now)
        audit.record(
            "case_started",
            {"case": application.reference, "process": definition.process_id, "version": definition.version},
            user=applicant,
            application_id=application.id,
        )
    return application


def complete_task(
    application_id: int,
    task_id: str,
    user: User,
    data: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> Application:
    """Validate a form submission and complete a READY task of a case the user may work on."""
    try:
        with write_transaction():
            application = lock_case(application_id)
            _check_case_access(application, user)
            task = open_task(application, task_id)
            check_lane(application, task, user)
            if task.claimed_by_id is not None and task.claimed_by_id != user.id:
                claimer = db.session.get(User, task.claimed_by_id)
                raise Conflict(f"this task is claimed by {claimer.label if claimer else 'another officer'}")
            if expected_version is not None and expected_version != application.version:
                raise Conflict("the case changed since you opened it; reload the page to see the latest state")
            clean = _validated(application, task, data)
            runtime = load_runtime(application)
            completion = guard_engine(lambda: runtime.complete_user_task(task_id, clean), application.reference)
            save_case(application, runtime)
            audit.record(
                "task_completed",
                {
                    "case": application.reference,
                    "task": completion.element_id,
                    "task_id": task_id,
                    "changed": list(completion.changed),
                },
                user=user,
                application_id=application.id,
            )
    except (NotFound, Forbidden) as exc:
        record_refusal(user, application_id, task_id, str(exc))
        raise
    except StaleDataError as exc:
        raise Conflict("someone else changed the case at the same moment; nothing was saved, please retry") from exc
    return application


def deliver_message(application_id: int, name: str, payload: dict[str, Any], actor: str) -> Application:
    """Deliver a BPMN message (e.g. ``payment_received``) to a waiting case, in a transaction of its own."""
    with write_transaction():
        application = lock_case(application_id)
        apply_message(application, load_runtime(application), name, payload, actor)
    return application


def apply_message(
    application: Application, runtime: CaseRuntime, name: str, payload: dict[str, Any], actor: str
) -> None:
    """Deliver a message inside the caller's transaction (the case already locked), save and audit it."""
    guard_engine(lambda: runtime.deliver_message(name, payload), application.reference)
    save_case(application, runtime)
    audit.record(
        "message_delivered",
        {"case": application.reference, "message": name, "fields": sorted(payload)},
        actor=actor,
        application_id=application.id,
    )


def load_runtime(application: Application) -> CaseRuntime:
    """Restore the engine runtime of a case; a damaged state is reported, never reset."""
    model = process_model(application.definition)
    try:
        return CaseRuntime.restore(
            model, application.workflow_state, application.state_format, application.reference, app_clock()
        )
    except StateError as exc:
        raise CaseStateUnreadable(str(exc)) from exc


def save_case(application: Application, runtime: CaseRuntime) -> None:
    """Store a case's new state and status and bring its projections up to date."""
    now = app_clock().now()
    previous_status = application.status
    application.workflow_state, application.state_format = runtime.dump()
    application.status = runtime.status() or application.status
    detail = catalog().status_reason(application.status, runtime.data)
    fields = catalog().status_details.get(application.status)
    if detail is None and fields:
        detail = described(application, runtime.data, fields)
    application.status_detail = detail[:500] if detail else None
    sponsor_email = runtime.data.get("sponsor_email")
    if isinstance(sponsor_email, str) and sponsor_email.strip():
        application.sponsor_email = sponsor_email.strip().lower()
    application.updated_at = now
    if runtime.completed and application.closed_at is None:
        application.closed_at = now
    sync_projections(application, runtime, now)
    if application.status != previous_status:
        case_notifications.status_changed(application, application.status)


def find_case(reference: str, user: User) -> Application:
    """The case with this reference, if the user may see it; otherwise NotFound, and the refusal is audited."""
    application = db.session.scalars(select(Application).where(Application.reference == reference)).first()
    if application is None or not can_see_case(application, user):
        record_refusal(user, application.id if application else None, None, f"case {reference}")
        raise NotFound("there is no such application, or it is not yours")
    return application


def lock_case(application_id: int) -> Application:
    """Load a case for writing (row-locked on PostgreSQL; SQLite's write lock is already held)."""
    query = select(Application).where(Application.id == application_id).execution_options(populate_existing=True)
    if is_postgres():
        query = query.with_for_update(of=Application)
    application = db.session.scalars(query).first()
    if application is None:
        raise NotFound("there is no such application")
    return application


def _check_case_access(application: Application, user: User) -> None:
    if not can_see_case(application, user):
        raise NotFound("there is no such application")


def open_task(application: Application, task_id: str) -> HumanTask:
    """The open task row, or a Conflict saying who completed it and when (or that it was cancelled)."""
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application.id, HumanTask.task_id == task_id)
    ).first()
    if task is not None:
        return task
    done = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.application_id == application.id, AuditEvent.action == "task_completed")
        .order_by(AuditEvent.seq.desc())
    ).all()
    for row in done:
        if row.detail.get("task_id") == task_id:
            when = local_time(row.occurred_at)
            raise Conflict(f"this task was already completed by {row.actor} at {when}")
    raise Conflict("this task is no longer open (it was cancelled or never existed in this case)")


def check_lane(application: Application, task: HumanTask, user: User) -> None:
    """Refuse (Forbidden, audited) a task of a lane the user does not work in, or of someone else's part."""
    role = task.role
    reason = None
    if not role or not user.has_role(role):
        reason = f"the task '{task.name}' is for the {task.lane} lane (role {role or 'none'}), which you do not have"
    elif role == "applicant" and application.applicant_id != user.id:
        reason = f"the task '{task.name}' is for the applicant of {application.reference}"
    elif role == "sponsor" and not is_named_sponsor(application, user):
        reason = f"the task '{task.name}' is for the sponsor named in {application.reference}, with a confirmed address"
    if reason is not None:
        raise Forbidden(reason)


def _validated(application: Application, task: HumanTask, data: dict[str, Any]) -> dict[str, Any]:
    if not task.form_schema:
        return dict(data)
    form = definition_form(application.definition, task.form_schema, task.form_ui_schema)
    properties = form.schema.get("properties", {})
    writable = {k: v for k, v in data.items() if k in properties and not properties[k].get("readOnly")}
    errors = forms.validate(form, writable)
    if errors:
        raise InvalidInput(errors)
    return writable


def guard_engine(action: Any, reference: str) -> Any:
    """Run an engine call for a case, turning engine errors into service errors that name the case."""
    try:
        return action()
    except (TaskNotReady, NotWaiting) as exc:
        raise Conflict(f"case {reference}: {exc}") from exc
    except ScriptError as exc:
        raise ServiceError(f"case {reference} cannot go on: {exc}; an analyst must fix the diagram") from exc
    except StateError as exc:
        raise CaseStateUnreadable(str(exc)) from exc
    except EngineError as exc:
        raise ServiceError(f"case {reference}: {exc}") from exc


def record_refusal(user: User, application_id: int | None, task_id: str | None, reason: str) -> None:
    """Audit a refused access to a case (or one of its tasks) in a transaction of its own."""
    refusals.record_refusal(user, "application", application_id, reason, task_id=task_id)
