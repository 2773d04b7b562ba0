"""One leased-claim mechanism for every row the scheduler works through: timers, the notification
outbox and the sandbox provider's notices.

A pass *claims* due rows in a short writing transaction: it takes a lease (the row
is not taken again before ``next_attempt_at``), names the owner and counts the
attempt; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps two schedulers off the same
rows, on SQLite the write lock (``BEGIN IMMEDIATE``) does. Each claimed row is then
worked on *outside* any transaction, from a snapshot of the columns the work asked
for, and the outcome is recorded: done, retried after the kind's ``RetryPolicy``, or
given up (``gave_up_at``) for an administrator, with an incident opened in the same
transaction. A worker that dies mid-attempt only delays its rows until the lease
ends, and still uses the attempt up, so a row that kills its worker gives up too.
``KINDS`` names every leased table with its policy.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Row, Table, or_, select, update

from ..extensions import app_clock, db
from ..models import Notification, SandboxWebhook, Timer
from ..transactions import is_postgres, write_transaction
from .errors import ServiceError
from .incidents import records as incidents

log = logging.getLogger(__name__)

T = TypeVar("T")
BATCH = 50
_ERROR_CHARS = 2000


def scheduler_id() -> str:
    """A name for this scheduler process, used as the lease owner."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait after each failed attempt, and when to give up."""

    first_delay: timedelta
    growth: float
    cap: timedelta
    max_attempts: int

    def __post_init__(self) -> None:
        if self.first_delay <= timedelta(0) or self.growth < 1 or self.cap < self.first_delay or self.max_attempts < 1:
            raise ValueError(f"a retry policy needs a positive delay, growth >= 1, cap >= delay, attempts >= 1: {self}")

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: first_delay, times growth each time, at most cap."""
        return min(self.first_delay * self.growth ** max(attempts - 1, 0), self.cap)

    def gives_up(self, attempts: int) -> bool:
        """True once ``attempts`` attempts were made: no further one is scheduled."""
        return attempts >= self.max_attempts


@dataclass(frozen=True)
class LeasedKind:
    """A table of leased rows (its model carries the ``LeasedWork`` columns) and how its rows are retried."""

    name: str
    model: type[Any]
    policy: RetryPolicy

    @property
    def table(self) -> Table:
        """The model's table (the mechanism works in Core: one statement per step)."""
        table: Table = self.model.__table__
        return table


# The one registry: what the scheduler retries, how; a given-up row becomes an incident (incidents.records).
KINDS: dict[str, LeasedKind] = {
    kind.name: kind
    for kind in (
        # A timer that fails to fire is a broken case: retried for about four hours, then an incident.
        LeasedKind("timer", Timer, RetryPolicy(timedelta(minutes=1), 2, timedelta(hours=1), 10)),
        # Mail and SMS providers have outages of hours: 1, 2, 4 ... minutes, at most 6 hours apart.
        LeasedKind("notification", Notification, RetryPolicy(timedelta(minutes=1), 2, timedelta(hours=6), 10)),
        # The provider's own schedule for its notices: 5 s, 10 s ... at most an hour, about eight hours in all.
        LeasedKind("webhook", SandboxWebhook, RetryPolicy(timedelta(seconds=5), 2, timedelta(hours=1), 15)),
    )
}


@dataclass(frozen=True)
class Queue:
    """Which rows of a kind are due: still open (``ready``), oldest ``due_at`` first, under a default lease."""

    kind: LeasedKind
    ready: ColumnElement[bool]
    due_at: Any  # the column compared with now and ordered by
    lease: timedelta
    # Set to now when an attempt succeeds; None when the work finishes the row in its own transaction.
    done_at: Any = None


class AttemptFailed(Exception):
    """Raised by a queue's work for an expected failure: recorded with this message, no traceback logged."""


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """One claimed row worked on: what the work returned, or why it failed."""

    row_id: int
    outcome: T | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True when the work raised (the failure is recorded on the row)."""
        return self.error is not None


def _due_now(queue: Queue, now: datetime) -> list[ColumnElement[bool]]:
    table = queue.kind.table
    return [
        queue.ready,
        table.c.gave_up_at.is_(None),
        queue.due_at <= now,
        or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now),
    ]


def claim(
    queue: Queue, owner: str, limit: int = BATCH, lease: timedelta | None = None, columns: Sequence[Any] = ()
) -> list[Row[Any]]:
    """Lease up to ``limit`` due rows to ``owner``; returns (id, *columns) of each, oldest due first."""
    table, policy = queue.kind.table, queue.kind.policy
    lease = queue.lease if lease is None else lease
    if lease <= timedelta(0):
        raise ValueError("a lease must last a moment, or the same pass would take its rows again")
    now = app_clock().now()
    with write_transaction():
        query = (
            select(table.c.id, table.c.attempts)
            .where(*_due_now(queue, now))
            .order_by(queue.due_at, table.c.id)
            .limit(limit)
        )
        if is_postgres():
            query = query.with_for_update(skip_locked=True)
        found = db.session.execute(query).all()
        spent = [row.id for row in found if policy.gives_up(row.attempts)]
        if spent:  # their last attempt never reported back: its worker died, maybe because of the row
            _give_up(queue.kind, spent, now, "the last attempt did not finish (did its worker stop?)")
        ids = [row.id for row in found if row.id not in spent]
        if not ids:
            return []
        claimed = db.session.execute(
            update(table)
            .where(table.c.id.in_(ids))
            .values(lease_owner=owner, next_attempt_at=now + lease, attempts=table.c.attempts + 1)
            .returning(table.c.id, *columns)
        ).all()
    order = {row_id: index for index, row_id in enumerate(ids)}
    return sorted(claimed, key=lambda row: order[row.id])


def _give_up(kind: LeasedKind, ids: list[int], now: datetime, error: str) -> None:
    table = kind.table
    db.session.execute(
        update(table)
        .where(table.c.id.in_(ids))
        .values(gave_up_at=now, next_attempt_at=None, last_error=error[:_ERROR_CHARS])
    )
    log.error("%s %s given up: %s", kind.name, ", ".join(map(str, ids)), error)
    incidents.open_for_given_up(kind.name, ids, error, now)  # in the same transaction: never one without the other


def record_success(queue: Queue, row_id: int) -> None:
    """Mark a row done (``done_at`` = now) unless it already is; its lease and last error are cleared."""
    if queue.done_at is None:
        raise ValueError(f"rows of {queue.kind.name} are finished by their own work, not recorded here")
    table = queue.kind.table
    now = app_clock().now()
    with write_transaction():
        db.session.execute(
            update(table)
            .where(table.c.id == row_id, queue.ready)
            .values({queue.done_at: now, "next_attempt_at": None, "last_error": None})
        )


def record_failure(queue: Queue, row_id: int, owner: str, error: str) -> bool:
    """Schedule the next attempt after the policy's delay, or give up; returns True when given up.

    Nothing is written when the row is done or no longer leased to ``owner`` (its lease ran out and
    another scheduler holds it now: that one records its own outcome).
    """
    kind, table = queue.kind, queue.kind.table
    now = app_clock().now()
    with write_transaction():
        query = select(table.c.attempts).where(table.c.id == row_id, table.c.lease_owner == owner, queue.ready)
        if is_postgres():
            query = query.with_for_update()
        attempts = db.session.scalar(query)
        if attempts is None:
            return False
        if kind.policy.gives_up(attempts):
            _give_up(kind, [row_id], now, f"gave up after {attempts} attempts; last error: {error}")
            return True
        db.session.execute(
            update(table)
            .where(table.c.id == row_id)
            .values(last_error=error[:_ERROR_CHARS], next_attempt_at=now + kind.policy.delay(attempts))
        )
    return False


def describe(exc: BaseException) -> str:
    """The message recorded for a failed attempt: ours as they are, others with their class name."""
    if isinstance(exc, AttemptFailed | ServiceError):
        return str(exc)
    return f"{exc.__class__.__name__}: {exc}"


def work_through(
    queue: Queue,
    owner: str,
    work: Callable[[Row[Any]], T],
    limit: int = BATCH,
    lease: timedelta | None = None,
    columns: Sequence[Any] = (),
) -> list[Attempt[T]]:
    """Claim due rows batch by batch and run ``work`` on each snapshot, outside any transaction, until
    none is due; a raising ``work`` is recorded as a failed attempt and does not hold up the others."""
    attempts: list[Attempt[T]] = []
    while True:
        claimed = claim(queue, owner, limit, lease, columns)
        if not claimed:
            return attempts
        for row in claimed:
            attempts.append(_attempt(queue, owner, row, work))


def _attempt(queue: Queue, owner: str, row: Row[Any], work: Callable[[Row[Any]], T]) -> Attempt[T]:
    try:
        outcome = work(row)
    except Exception as exc:  # one broken row must not hold up the others; it is retried later
        db.session.rollback()
        error = describe(exc)
        log.warning(
            "%s %s failed: %s", queue.kind.name, row.id, error, exc_info=not isinstance(exc, AttemptFailed | OSError)
        )
        record_failure(queue, row.id, owner, error)
        return Attempt(row.id, error=error)
    db.session.rollback()  # whatever the work read is not kept open into the next one
    if queue.done_at is not None:
        record_success(queue, row.id)
    return Attempt(row.id, outcome)


def next_due_times(queues: Sequence[Queue]) -> list[datetime | None]:
    """When each queue's next row falls due (None: nothing open), in one statement; the scheduler sleeps
    until then.

    A row never taken falls due at its ``due_at``; a leased or retried one at its ``next_attempt_at``
    (set at a claim or a failure, both after the row fell due). Each half reads one index in order.
    """
    columns: list[Any] = []
    for queue in queues:
        table = queue.kind.table
        still_open = (queue.ready, table.c.gave_up_at.is_(None))
        fresh = select(queue.due_at).where(*still_open, table.c.next_attempt_at.is_(None), queue.due_at.is_not(None))
        waiting = select(table.c.next_attempt_at).where(*still_open, table.c.next_attempt_at.is_not(None))
        columns.append(fresh.order_by(queue.due_at).limit(1).scalar_subquery())
        columns.append(waiting.order_by(table.c.next_attempt_at).limit(1).scalar_subquery())
    if not columns:
        return []
    try:
        row = db.session.execute(select(*columns)).one()
    finally:
        db.session.rollback()  # a read: nothing is held open while the scheduler sleeps
    found: list[datetime | None] = []
    for fresh_due, waiting_due in zip(row[::2], row[1::2], strict=True):
        times = [when for when in (fresh_due, waiting_due) if when is not None]
        found.append(min(times) if times else None)
    return found


@dataclass(frozen=True)
class GivenUp:
    """A row whose retries ran out, as the incidents page lists it."""

    kind: str
    row_id: int
    attempts: int
    last_error: str | None
    gave_up_at: datetime


def given_up(limit: int = 100) -> list[GivenUp]:
    """Every kind's given-up rows, most recent first."""
    found: list[GivenUp] = []
    for kind in KINDS.values():
        table = kind.table
        rows = db.session.execute(
            select(table.c.id, table.c.attempts, table.c.last_error, table.c.gave_up_at)
            .where(table.c.gave_up_at.is_not(None))
            .order_by(table.c.gave_up_at.desc())
            .limit(limit)
        )
        found.extend(GivenUp(kind.name, r.id, r.attempts, r.last_error, r.gave_up_at) for r in rows)
    return sorted(found, key=lambda g: g.gave_up_at, reverse=True)[:limit]


def retry_given_up(kind_name: str, row_id: int) -> bool:
    """Give a given-up row a fresh set of attempts, due now; False when it had not given up."""
    with write_transaction():
        return requeue(kind_name, row_id)


def requeue(kind_name: str, row_id: int) -> bool:
    """``retry_given_up`` inside the caller's transaction (the incident retried with it)."""
    table = KINDS[kind_name].table
    result = db.session.execute(
        update(table)
        .where(table.c.id == row_id, table.c.gave_up_at.is_not(None))
        .values(gave_up_at=None, attempts=0, next_attempt_at=app_clock().now(), lease_owner=None)
    )
    return bool(getattr(result, "rowcount", 0))
