"""Late work: the SLA of one officer's task (due, time left or how late, why it was escalated) and, for
supervisors, every late task of their offices grouped by the officer holding it.

A task's due time is the earliest timer the diagram attaches to it (``human_task.due_at``, projected
from the timer rows); a non-interrupting timer that fires marks the task escalated (``escalated_at``,
``escalated_by``: ``cases/timers.fire_timer``), and the case goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import Application, HumanTask, User
from ..cases.access import OFFICER_ROLES
from ..deployments import element_names
from .figures import NOBODY, office_names, people, scope_of, step_names

# How long before the due time a task counts as due soon (the inbox's "due soon" uses the same day).
SOON = timedelta(hours=24)


@dataclass(frozen=True)
class Sla:
    """A task's SLA as an officer reads it."""

    due_at: datetime | None
    state: str  # none | ok | soon | late
    left: Message | None  # "2 days 3 hours left" / "late by 5 hours"
    escalated_at: datetime | None
    escalated_by: str | None  # the name of the diagram's timer that escalated it


def duration_words(delta: timedelta) -> Message:
    """A duration in days and hours (minutes under an hour): ``2 days 3 hours``, ``40 minutes``."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return Message("%(days)s d %(hours)s h", days=days, hours=hours)
    if hours:
        return Message("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    return Message("%(minutes)s min", minutes=minutes)


def sla_of(task: HumanTask, timer_name: str | None, now: datetime) -> Sla:
    """The SLA of a task row at ``now``."""
    if task.due_at is None:
        return Sla(None, "none", None, task.escalated_at, timer_name)
    if task.due_at <= now:
        state, left = "late", Message("late by %(time)s", time=duration_words(now - task.due_at))
    else:
        state = "soon" if task.due_at - now <= SOON else "ok"
        left = Message("%(time)s left", time=duration_words(task.due_at - now))
    return Sla(task.due_at, state, left, task.escalated_at, timer_name)


def task_sla(task: HumanTask, application: Application, language: str | None) -> Sla:
    """The SLA of an open task of a case, the escalating timer named as the diagram names it."""
    name = None
    if task.escalated_by:
        name = element_names(application.definition, language).get(task.escalated_by, Message("a deadline"))
    return sla_of(task, name, app_clock().now())


@dataclass(frozen=True)
class LateTask:
    """One late task on the late-work page."""

    reference: str
    task_id: str
    step: str
    office: str
    sla: Sla


@dataclass
class LateWork:
    """The late tasks of the reader's offices by the officer holding them (nobody first)."""

    groups: list[tuple[str, list[LateTask]]] = field(default_factory=list)
    total: int = 0


def late_work(user: User, language: str | None = None, limit: int = 500) -> LateWork:
    """Every late task of an officer's lane in the user's offices, grouped by claimant, latest due last.

    Reads ``ix_human_task_due`` (role, due_at) one lane at a time; at most ``limit`` tasks."""
    scope = scope_of(user, language)
    query = (
        select(HumanTask, Application.reference)
        .join(Application, Application.id == HumanTask.application_id)
        .where(HumanTask.role.in_(OFFICER_ROLES), HumanTask.due_at <= scope.now, *scope.tasks())
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(limit)
    )
    found = list(db.session.execute(query))
    steps, offices = step_names(language), office_names()
    names = people([task.claimed_by_id for task, _ in found])
    grouped: dict[int | None, list[LateTask]] = {}
    for task, reference in found:
        timer = steps.get(task.escalated_by, task.escalated_by) if task.escalated_by else None
        grouped.setdefault(task.claimed_by_id, []).append(
            LateTask(
                reference=reference,
                task_id=task.task_id,
                step=steps.get(task.element_id, task.name),
                office=offices.get(task.office_id, offices[None]),
                sla=sla_of(task, timer, scope.now),
            )
        )
    order = sorted(grouped, key=lambda who: (who is not None, str(names.get(who, NOBODY))))
    return LateWork([(names.get(who, NOBODY), grouped[who]) for who in order], len(found))
