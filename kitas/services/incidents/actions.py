"""What administrators do with an incident: retry it, or resolve it with a note. Both audited.

Retrying a case's incident is one step of the case's unit of work: the case first moves to the
newest deployed version of its process that has every element it has tasks of (so a fix deployed
since carries it on), then every engine task waiting in ERROR runs again. If nothing fails, the
incidents of the elements that no longer wait are resolved; if the script fails again, the case
stays where it was, the incident counts the attempt and keeps the new error. Retrying a given-up
timer, notification or provider notice queues that row again with a fresh set of attempts (a new
incident opens if it gives up again) and resolves the incident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from forms.texts import Message, joined

from ...extensions import app_clock, db
from ...models import Incident, ProcessDefinition, User
from ...transactions import is_postgres, write_transaction
from .. import audit, leases
from ..cases import CaseStep, case_step
from ..errors import Conflict, InvalidInput, NotFound
from .listing import require_admin

NOTE_CHARS = 2000
# The incidents a retry of the case resolves when their element no longer waits in ERROR.
_STEP_KINDS = ("script_error", "time_limit", "engine_error")

Record = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class RetryOutcome:
    """What a retry did: whether the case went on, the version it moved to, the error if it failed again."""

    went_on: bool
    moved_to: int | None = None
    not_moved: str | None = None  # why a newer version could not be used
    error: str | None = None
    requeued: bool = False


def retry(incident_id: int, admin: User) -> RetryOutcome:
    """Run the failed part again (after moving the case to a newer compatible version, if one is deployed)."""
    require_admin(admin)
    incident = _incident(incident_id)
    if incident.lease_kind is not None and incident.lease_row_id is not None:
        return _retry_lease(incident, admin)
    if incident.application_id is None:
        raise Conflict(
            Message(
                "this incident belongs to no case, so there is nothing to run again; "
                "resolve it with a note once its cause is dealt with"
            )
        )
    return _retry_case(incident, admin)


def resolve(incident_id: int, admin: User, note: str | None) -> None:
    """Close an incident with a note saying what was done (InvalidInput if the note is empty or too long)."""
    require_admin(admin)
    text = (note or "").strip()
    if not text:
        raise InvalidInput({"note": [Message("Write a note: what was done, or why nothing needs to be done.")]})
    if len(text) > NOTE_CHARS:
        too_long = Message(
            "Keep the note to %(limit)s characters; it has %(count)s.", limit=NOTE_CHARS, count=len(text)
        )
        raise InvalidInput({"note": [too_long]})
    incident = _incident(incident_id)
    with _handling(incident, admin) as (row, record, now):
        _close(row, admin, now, text)
        record("incident_resolved", {**_detail(row), "note": text[:500]})


def _retry_case(incident: Incident, admin: User) -> RetryOutcome:
    assert incident.application_id is not None
    with case_step(incident.application_id) as step:
        row = _locked(incident.id)
        _check_open(row)
        moved, not_moved = _move_to_newest(step)
        if step.runtime.failed_steps():
            step.run(lambda runtime: runtime.retry_failed_steps())
        elif moved is None and not_moved:
            raise Conflict(
                Message(
                    "nothing of case %(reference)s waits to be run again (%(reasons)s); "
                    "deploy a fix and retry, or resolve the incident with a note",
                    reference=step.application.reference,
                    reasons=not_moved,
                )
            )
        elif moved is None:
            raise Conflict(
                Message(
                    "nothing of case %(reference)s waits to be run again, and no newer version of its process is "
                    "deployed; deploy a fix and retry, or resolve the incident with a note",
                    reference=step.application.reference,
                )
            )
        still_failing = {failed.element_id for failed in step.runtime.failed_steps()}
        row.retries += 1
        errors = [str(failed.error) for failed in step.stopped if failed.element_id == row.element_id]
        step.audit(
            "incident_retried",
            {**_detail(row), "moved_to_version": moved, "failed_again": bool(step.stopped)},
            user=admin,
        )
        _resolve_gone(step, still_failing, admin, moved)
    went_on = row.element_id not in still_failing
    return RetryOutcome(went_on, moved, not_moved, None if went_on else (errors[0] if errors else row.error))


def _move_to_newest(step: CaseStep) -> tuple[int | None, str | None]:
    """Move the case to the newest version of its process it fits; returns (version, or why none fits)."""
    current = step.application.definition
    newer = db.session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_id == current.process_id, ProcessDefinition.version > current.version)
        .order_by(ProcessDefinition.version.desc())
    ).all()
    reasons = []
    for definition in newer:
        try:
            step.move_to(definition)
        except Conflict as exc:
            reasons.append(Message("version %(version)s: %(problem)s", version=definition.version, problem=exc.message))
            continue
        return definition.version, None
    return None, joined(reasons) or None


def _resolve_gone(step: CaseStep, still_failing: set[str], admin: User, moved: int | None) -> None:
    """Resolve the case's open step incidents whose element no longer waits in ERROR."""
    note = (
        Message("Retried: the case went on on version %(version)s.", version=moved)
        if moved
        else Message("Retried: the case went on.")
    )
    rows = db.session.scalars(
        select(Incident).where(
            Incident.application_id == step.application.id,
            Incident.status == "open",
            Incident.lease_kind.is_(None),
            Incident.kind.in_(_STEP_KINDS),
        )
    ).all()
    for row in rows:
        if row.element_id not in still_failing:
            _close(row, admin, step.now, note)


def _retry_lease(incident: Incident, admin: User) -> RetryOutcome:
    with _handling(incident, admin) as (row, record, now):
        assert row.lease_kind is not None and row.lease_row_id is not None
        requeued = leases.requeue(row.lease_kind, row.lease_row_id)
        row.retries += 1
        note = (
            Message("Retried: queued again with a fresh set of attempts; a new incident opens if it gives up again.")
            if requeued
            else Message("Retried: it was no longer waiting (delivered, or queued again already).")
        )
        _close(row, admin, now, note)
        record("incident_retried", {**_detail(row), "requeued": requeued})
    return RetryOutcome(went_on=True, requeued=requeued)


@contextmanager
def _handling(incident: Incident, admin: User) -> Iterator[tuple[Incident, Record, datetime]]:
    """One transaction on an open incident, locked: a step of its case (audited in the case's chain), or
    for an incident of no case a plain transaction audited in the administrator's chain."""
    if incident.application_id is not None:
        with case_step(incident.application_id) as step:
            row = _locked(incident.id)
            _check_open(row)
            yield row, lambda action, detail: step.audit(action, detail, user=admin), step.now
        return
    with write_transaction():
        row = _locked(incident.id)
        _check_open(row)
        yield row, lambda action, detail: _record(action, detail, admin), app_clock().now()


def _record(action: str, detail: dict[str, Any], admin: User) -> None:
    audit.record(action, detail, user=admin)


def _incident(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(Message("there is no incident %(incident)s", incident=incident_id))
    return incident


def _locked(incident_id: int) -> Incident:
    """The incident row, read again inside the transaction (and locked on PostgreSQL)."""
    query = select(Incident).where(Incident.id == incident_id).execution_options(populate_existing=True)
    if is_postgres():
        query = query.with_for_update(of=Incident)
    return db.session.scalars(query).one()


def _check_open(row: Incident) -> None:
    if row.status != "open":
        who = row.resolved_by.label if row.resolved_by is not None else Message("someone")
        raise Conflict(
            Message(
                "incident %(incident)s was already resolved by %(who)s at %(when)s",
                incident=row.id,
                who=who,
                when=row.resolved_at,
            )
        )


def _close(row: Incident, admin: User, now: datetime, note: str) -> None:
    row.status = "resolved"
    row.resolved_at = now
    row.resolved_by_id = admin.id
    row.note = str(note)  # stored as written (a retry's note is its English text)
    row.open_key = None  # the same failure may open a new incident from now on


def _detail(row: Incident) -> dict[str, Any]:
    return {"incident": row.id, "kind": row.kind, "element": row.element_id}
