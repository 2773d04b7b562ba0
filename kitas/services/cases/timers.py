"""Fire due BPMN timers exactly once, from any number of scheduler processes.

A timer is first *claimed* through the one lease mechanism (``kitas.services.leases``:
a short transaction leases due rows, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), then
*fired* in its own transaction that locks the case and the timer row and re-checks
that the timer is still pending and leased to this scheduler: firing is idempotent,
and a crash between claim and fire only delays the timer until its lease runs out.
A timer that fails to fire is retried under the ``timer`` policy, then given up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import Timer, User
from ...transactions import is_postgres
from .. import leases
from ..leases import scheduler_id
from .unit_of_work import CaseStep, case_step

__all__ = [
    "DUE_TIMERS",
    "FireReport",
    "claim_due_timers",
    "fire_due_timers",
    "fire_in_step",
    "fire_timer",
    "scheduler_id",
]

# Pending timers whose due time has come; ``fire_timer`` itself marks a timer fired or cancelled.
DUE_TIMERS = leases.Queue(
    kind=leases.KINDS["timer"], ready=Timer.status == "pending", due_at=Timer.due_at, lease=timedelta(seconds=60)
)


@dataclass
class FireReport:
    """What one pass over the due timers did."""

    fired: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def claim_due_timers(owner: str, limit: int = 50, lease_seconds: float = 60) -> list[int]:
    """Lease up to ``limit`` due timers to ``owner`` and return their ids."""
    return [row.id for row in leases.claim(DUE_TIMERS, owner, limit, timedelta(seconds=lease_seconds))]


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
        return fire_in_step(step, timer, actor=f"scheduler {owner}")


def fire_in_step(step: CaseStep, timer: Timer, *, actor: str | None = None, user: User | None = None) -> str:
    """Inside the case's step: fire its pending ``timer`` (``fired``), or cancel it when the case no longer
    waits on it (``stale``); a non-interrupting timer marks the task it is attached to escalated."""
    waiting = {t.task_id for t in step.runtime.pending_timers()}
    # None: it fired, and a task after it failed and waits as an incident (the timer did its part).
    if timer.task_id not in waiting or step.run(lambda runtime: runtime.fire_timer(timer.task_id)) is False:
        timer.status = "cancelled"
        timer.note = "the case no longer waited on this timer when it fell due"
        return "stale"
    timer.status = "fired"
    timer.fired_at = step.now
    if not timer.interrupting and timer.attached_to:
        for task in step.tasks().values():
            if task.element_id == timer.attached_to:
                if task.escalated_at is None:
                    task.escalated_at, task.escalated_by = step.now, timer.element_id
    step.audit(
        "timer_fired",
        {
            "timer": timer.element_id,
            "task_id": timer.task_id,
            "due": timer.due_at.isoformat(),
            "escalates": timer.attached_to if not timer.interrupting else None,
        },
        actor=actor,
        user=user,
    )
    return "fired"


def fire_due_timers(owner: str | None = None, limit: int = 50, lease_seconds: float = 60) -> FireReport:
    """Claim and fire every due timer (in batches of ``limit``) until none is left for this owner."""
    holder = owner or scheduler_id()
    report = FireReport()
    attempts = leases.work_through(
        DUE_TIMERS, holder, lambda row: fire_timer(row.id, holder), limit, timedelta(seconds=lease_seconds)
    )
    for attempt in attempts:
        if attempt.failed:
            report.failed.append(attempt.row_id)
        elif attempt.outcome == "fired":
            report.fired.append(attempt.row_id)
        elif attempt.outcome == "stale":
            report.stale.append(attempt.row_id)
    return report
