"""Scheduler heartbeats in the database: each scheduler says it is alive, ``/health`` reads who is.

A scheduler beats every ``KITAS_SCHEDULER_HEARTBEAT`` seconds (one UPDATE, an INSERT the
first time) and removes its row when it stops cleanly. One whose last beat is older than
``ALIVE_BEATS`` intervals is no longer counted as alive: it was killed, hangs, or cannot
reach the database. Rows of schedulers silent for a day are deleted by the next beat.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from ..extensions import app_clock, db
from ..models import SchedulerHeartbeat
from ..transactions import write_transaction

# A scheduler is alive while its last beat is at most this many intervals old (one late beat is not death).
ALIVE_BEATS = 3
FORGOTTEN_AFTER = timedelta(days=1)


def beat(owner: str, embedded: bool = False) -> None:
    """Record that the scheduler ``owner`` is alive now (first beat: its row, host, pid and start time)."""
    now = app_clock().now()
    table = SchedulerHeartbeat.__table__
    with write_transaction():
        found = db.session.execute(update(table).where(table.c.owner == owner).values(beat_at=now))
        if not getattr(found, "rowcount", 0):
            db.session.execute(
                insert(table).values(
                    owner=owner,
                    host=socket.gethostname()[:255],
                    pid=os.getpid(),
                    embedded=embedded,
                    started_at=now,
                    beat_at=now,
                )
            )
        db.session.execute(delete(table).where(table.c.beat_at < now - FORGOTTEN_AFTER))


def forget(owner: str) -> None:
    """Remove the row of a scheduler that stops cleanly (a killed one simply stops beating)."""
    table = SchedulerHeartbeat.__table__
    with write_transaction():
        db.session.execute(delete(table).where(table.c.owner == owner))


@dataclass(frozen=True)
class SchedulerStatus:
    """Whether any scheduler is alive, how many are, and the newest beat of any scheduler."""

    alive: int
    last_beat: datetime | None

    @property
    def state(self) -> str:
        """``alive``, ``stale`` (schedulers beat once, none lately) or ``none`` (no scheduler ever beat)."""
        if self.alive:
            return "alive"
        return "stale" if self.last_beat is not None else "none"


def scheduler_status(interval_seconds: float) -> SchedulerStatus:
    """Count the schedulers that beat within ``ALIVE_BEATS`` intervals; the newest beat of any."""
    since = app_clock().now() - timedelta(seconds=interval_seconds * ALIVE_BEATS)
    alive_count = func.count().filter(SchedulerHeartbeat.beat_at >= since)
    row = db.session.execute(select(alive_count, func.max(SchedulerHeartbeat.beat_at))).one()
    return SchedulerStatus(alive=int(row[0] or 0), last_beat=row[1])
