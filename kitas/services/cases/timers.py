"""Fire due BPMN timers exactly once, from any number of scheduler processes.

A timer is first *claimed* (a short transaction takes a lease on due rows; on
PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps two schedulers off the same rows),
then *fired* in its own transaction that locks the case and the timer row and
re-checks that the timer is still pending: firing is idempotent, and a crash
between claim and fire only delays the timer until its lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select

from ...extensions import app_clock, db
from ...models import Timer
from ...transactions import is_postgres, write_transaction
from ..errors import ServiceError
from .unit_of_work import case_step

log = logging.getLogger(__name__)


def scheduler_id() -> str:
    """A name for this scheduler process, used as the lease owner."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class FireReport:
    """What one pass over the due timers did."""

    fired: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def claim_due_timers(owner: str, limit: int = 50, lease_seconds: float = 60) -> list[int]:
    """Lease up to ``limit`` due timers to ``owner`` and return their ids."""
    now = app_clock().now()
    with write_transaction():
        query = (
            select(Timer)
            .where(
                Timer.status == "pending",
                Timer.due_at <= now,
                or_(Timer.lease_until.is_(None), Timer.lease_until < now),
            )
            .order_by(Timer.due_at, Timer.id)
            .limit(limit)
        )
        if is_postgres():
            query = query.with_for_update(skip_locked=True)
        timers = db.session.scalars(query).all()
        for timer in timers:
            timer.lease_owner = owner
            timer.lease_until = now + timedelta(seconds=lease_seconds)
        ids = [t.id for t in timers]
    return ids


def fire_timer(timer_id: int, owner: str) -> str:
    """Fire one claimed timer; returns ``fired``, ``stale`` (nothing to do) or ``skipped`` (not ours)."""
    application_id = db.session.scalar(select(Timer.application_id).where(Timer.id == timer_id))
    if application_id is None:
        return "skipped"
    with case_step(application_id) as step:
        query = select(Timer).where(Timer.id == timer_id).execution_options(populate_existing=True)
        if is_postgres():
            query = query.with_for_update()
        timer = db.session.scalars(query).one()
        if timer.status != "pending" or timer.lease_owner != owner:
            return "skipped"
        waiting = {t.task_id for t in step.runtime.pending_timers()}
        if timer.task_id not in waiting or not step.run(lambda runtime: runtime.fire_timer(timer.task_id)):
            timer.status = "cancelled"
            timer.note = "the case no longer waited on this timer when it fell due"
            return "stale"
        timer.status = "fired"
        timer.fired_at = step.now
        if not timer.interrupting and timer.attached_to:
            for task in step.tasks().values():
                if task.element_id == timer.attached_to:
                    task.escalated_at = task.escalated_at or step.now
        step.audit(
            "timer_fired",
            {
                "timer": timer.element_id,
                "task_id": timer.task_id,
                "due": timer.due_at.isoformat(),
                "escalates": timer.attached_to if not timer.interrupting else None,
            },
            actor=f"scheduler {owner}",
        )
    return "fired"


def _postpone(timer_id: int, reason: str, lease_seconds: float) -> None:
    with write_transaction():
        timer = db.session.get(Timer, timer_id)
        if timer is not None and timer.status == "pending":
            timer.note = reason[:2000]
            timer.lease_until = app_clock().now() + timedelta(seconds=lease_seconds)


def fire_due_timers(owner: str | None = None, limit: int = 50, lease_seconds: float = 60) -> FireReport:
    """Claim and fire every due timer (in batches of ``limit``) until none is left for this owner."""
    owner = owner or scheduler_id()
    report = FireReport()
    while True:
        claimed = claim_due_timers(owner, limit, lease_seconds)
        if not claimed:
            return report
        for timer_id in claimed:
            try:
                outcome = fire_timer(timer_id, owner)
            except Exception as exc:  # one broken case must not hold up the timers of the others
                log.exception("timer %s failed", timer_id)
                db.session.rollback()
                report.failed.append(timer_id)
                message = str(exc) if isinstance(exc, ServiceError) else f"{exc.__class__.__name__}: {exc}"
                _postpone(timer_id, message, lease_seconds)
                continue
            if outcome == "fired":
                report.fired.append(timer_id)
            elif outcome == "stale":
                report.stale.append(timer_id)
        if report.failed and set(claimed) <= set(report.failed):
            return report
