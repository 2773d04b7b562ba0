"""Open incidents where failures are seen, and read the open ones of a case.

``open_incident`` runs inside the caller's transaction (the case step that kept a failure, the lease
pass that gave a row up) as ONE upsert on ``open_key``: a failure that repeats while its incident is
open adds an attempt to it instead of opening another, even when two processes see it at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from engine import ScriptError

from ...extensions import app_clock, db
from ...models import Incident, Notification, Payment, SandboxWebhook, Timer
from ...transactions import write_transaction
from ..errors import CaseCannotGoOn

log = logging.getLogger(__name__)

_ERROR_CHARS = 4000
# What a given-up row of each leased kind is, as an incident.
KIND_OF_LEASE = {
    "timer": "timer_failing",
    "notification": "notification_undeliverable",
    "webhook": "callback_undeliverable",
}


def kind_of(error: BaseException) -> str:
    """The incident kind of an engine failure: ``time_limit``, ``script_error`` or ``engine_error``."""
    if not isinstance(error, ScriptError):
        return "engine_error"
    return "time_limit" if error.limit else "script_error"  # limit: "cpu", "memory" or "time" (the sandbox's)


def case_key(application_id: int | None, element_id: str | None, kind: str) -> str:
    """The open key of a failure of a case's element: one open incident per (case, element, kind)."""
    return f"case:{application_id if application_id is not None else '-'}:{element_id or '-'}:{kind}"


def lease_key(lease_kind: str, row_id: int) -> str:
    """The open key of a given-up leased row: one open incident per row."""
    return f"{lease_kind}:{row_id}"


def open_incident(
    *,
    application_id: int | None,
    element_id: str | None,
    kind: str,
    error: str,
    now: datetime,
    key: str | None = None,
    attempts: int = 1,
    lease: tuple[str, int] | None = None,
) -> None:
    """Open an incident, or add the attempts to the open one with the same key (its error becomes this one)."""
    table = Incident.__table__
    values = {
        "application_id": application_id,
        "element_id": element_id,
        "kind": kind,
        "error": (error or "failed without a message")[:_ERROR_CHARS],
        "created_at": now,
        "last_failed_at": now,
        "attempts": attempts,
        "retries": 0,
        "status": "open",
        "open_key": key or case_key(application_id, element_id, kind),
        "lease_kind": lease[0] if lease else None,
        "lease_row_id": lease[1] if lease else None,
    }
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.open_key],
        set_={
            "attempts": table.c.attempts + statement.excluded.attempts,
            "error": statement.excluded.error,
            "last_failed_at": statement.excluded.last_failed_at,
        },
    )
    db.session.execute(statement)
    log.warning("incident %s (%s): %s", values["open_key"], kind, values["error"])


def record_after_rollback(failure: CaseCannotGoOn) -> None:
    """Open the incident of a step that was rolled back, in a transaction of its own."""
    with write_transaction():
        open_incident(
            application_id=failure.application_id,
            element_id=failure.element_id,
            kind=failure.kind,
            error=failure.error,
            now=app_clock().now(),
        )


def open_for_given_up(lease_kind: str, row_ids: list[int], error: str, now: datetime) -> None:
    """Inside the lease pass that gives rows up: one incident per row, naming its case when it has one."""
    kind = KIND_OF_LEASE.get(lease_kind)
    if kind is None or not row_ids:
        return
    for row_id, application_id, element_id, attempts in _subjects(lease_kind, row_ids):
        open_incident(
            application_id=application_id,
            element_id=element_id,
            kind=kind,
            error=error,
            now=now,
            key=lease_key(lease_kind, row_id),
            attempts=attempts,
            lease=(lease_kind, row_id),
        )


def _subjects(lease_kind: str, row_ids: list[int]) -> list[tuple[int, int | None, str | None, int]]:
    """(row id, case id, element id, attempts) of each given-up row."""
    if lease_kind == "timer":
        rows = db.session.execute(
            select(Timer.id, Timer.application_id, Timer.element_id, Timer.attempts).where(Timer.id.in_(row_ids))
        )
        return [(r.id, r.application_id, r.element_id, r.attempts) for r in rows]
    if lease_kind == "notification":
        rows = db.session.execute(
            select(Notification.id, Notification.application_id, Notification.attempts).where(
                Notification.id.in_(row_ids)
            )
        )
        return [(r.id, r.application_id, None, r.attempts) for r in rows]
    notices = db.session.execute(
        select(SandboxWebhook.id, SandboxWebhook.body, SandboxWebhook.attempts).where(SandboxWebhook.id.in_(row_ids))
    ).all()
    return [(notice.id, _case_of_notice(notice.body), None, notice.attempts) for notice in notices]


def _case_of_notice(body: str) -> int | None:
    """The case a provider's notice is about: the one whose payment has its billing code."""
    try:
        billing_code = json.loads(body).get("billing_code")
    except (ValueError, AttributeError):
        return None
    if not isinstance(billing_code, str):
        return None
    return db.session.scalar(select(Payment.application_id).where(Payment.billing_code == billing_code))


@dataclass(frozen=True)
class OpenIncident:
    """An open incident as the case pages mention it."""

    id: int
    kind: str
    element_id: str | None
    since: datetime
    element_name: str | None = None


def open_for_case(application_id: int) -> list[OpenIncident]:
    """The open incidents of a case, oldest first."""
    rows = db.session.execute(
        select(Incident.id, Incident.kind, Incident.element_id, Incident.created_at)
        .where(Incident.application_id == application_id, Incident.status == "open")
        .order_by(Incident.created_at, Incident.id)
    )
    return [OpenIncident(r.id, r.kind, r.element_id, r.created_at) for r in rows]
