"""Wake this process's scheduler when a committed transaction adds work that falls due.

Every INSERT into a leased table (``leases.KINDS``: timers, the outbox, the provider's
notices) is noted with the earliest due time of its rows; when the session's transaction
commits, each subscriber hears ``(kind, due)`` and may wake up earlier than it planned. A
rolled-back transaction tells nobody. Nothing has to remember to call this: the hook sees
the statements themselves, whoever writes them.

Only this process hears it. Schedulers in other processes find such rows by reading the
next due time every ``KITAS_SCHEDULER_POLL`` seconds (``leases.next_due_times``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from ..extensions import app_clock
from .leases import KINDS

log = logging.getLogger(__name__)

Listener = Callable[[str, datetime], None]

_KIND_OF_TABLE = {kind.table.name: kind.name for kind in KINDS.values()}
# A row is due at the later of its due time and its next attempt (whichever of the two it has).
_DUE_KEYS = ("due_at", "next_attempt_at")
_listeners: list[Listener] = []
_listeners_lock = threading.Lock()
# kind -> earliest due time (None: at once) noted in the transaction this context has open.
_noted: ContextVar[dict[str, datetime | None] | None] = ContextVar("kitas_noted_due", default=None)


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call ``listener(kind, due)`` after each commit in this process that added rows of ``kind``;
    returns the function that unsubscribes it."""
    with _listeners_lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _listeners_lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def _due_of(rows: Iterable[Any]) -> datetime | None:
    """The earliest due time among inserted rows' parameters; None when one of them has none (due at once)."""
    earliest: datetime | None = None
    for row in rows:
        if not isinstance(row, dict):
            return None
        times = [row[key] for key in _DUE_KEYS if isinstance(row.get(key), datetime)]
        if not times:
            return None
        due = max(times)
        earliest = due if earliest is None or due < earliest else earliest
    return earliest


@event.listens_for(Engine, "after_execute")
def _note_insert(
    conn: Connection, clauseelement: Any, multiparams: Any, params: Any, execution_options: Any, result: Any
) -> None:
    if not isinstance(clauseelement, Insert):
        return
    kind = _KIND_OF_TABLE.get(getattr(clauseelement.table, "name", ""))
    if kind is None:
        return
    rows = list(multiparams) if multiparams else [params]
    due = _due_of(rows) if rows and rows != [{}] else None
    noted = _noted.get()
    if noted is None:
        noted = {}
        _noted.set(noted)
    if kind not in noted:
        noted[kind] = due
    else:
        known = noted[kind]
        noted[kind] = None if known is None or due is None else min(known, due)


@event.listens_for(Session, "after_commit")
def _ring(session: Session) -> None:
    noted = _noted.get()
    if not noted:
        return
    _noted.set(None)
    with _listeners_lock:
        listeners = list(_listeners)
    if not listeners:
        return
    try:
        now = app_clock().now()
    except RuntimeError:  # committed outside an application (a script): the wall clock
        now = datetime.now(UTC)
    for kind, due in noted.items():
        for listener in listeners:
            try:
                listener(kind, due or now)
            except Exception:  # a listener must never fail the commit that already happened
                log.exception("wake-up listener failed for %s", kind)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    _noted.set(None)
