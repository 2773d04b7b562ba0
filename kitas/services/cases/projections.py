"""Keep the read projections (human_task and timer rows) equal to the engine's view of a case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine import CaseRuntime, PendingTimer
from workflows import catalog

from ...extensions import db
from ...models import Application, HumanTask, Timer


def sync_projections(application: Application, runtime: CaseRuntime, now: datetime) -> None:
    """Insert rows for new READY tasks and timers; drop finished tasks; cancel timers no longer waited on."""
    timers = {t.task_id: t for t in runtime.pending_timers()}
    _sync_timers(application, timers, now)
    due_by_element: dict[str, datetime] = {}
    for timer in timers.values():
        if timer.attached_to and (
            timer.attached_to not in due_by_element or timer.due < due_by_element[timer.attached_to]
        ):
            due_by_element[timer.attached_to] = timer.due

    ready = {t.task_id: t for t in runtime.ready_user_tasks()}
    rows = db.session.scalars(select(HumanTask).where(HumanTask.application_id == application.id)).all()
    for row in rows:
        if row.task_id not in ready:
            db.session.delete(row)
    known = {row.task_id for row in rows}
    lanes = catalog()
    for task in ready.values():
        if task.task_id in known:
            continue
        db.session.add(
            HumanTask(
                application_id=application.id,
                task_id=task.task_id,
                element_id=task.element_id,
                name=task.name,
                lane=task.lane,
                role=lanes.role_for_lane(task.lane) or "",
                form_schema=task.form_schema,
                form_ui_schema=task.form_ui_schema,
                created_at=now,
                due_at=due_by_element.get(task.element_id),
            )
        )


def _sync_timers(application: Application, timers: dict[str, PendingTimer], now: datetime) -> None:
    rows = db.session.scalars(
        select(Timer).where(Timer.application_id == application.id, Timer.status == "pending")
    ).all()
    for row in rows:
        if row.task_id not in timers:
            row.status = "cancelled"
            row.note = "the case no longer waits on this timer"
    known = {row.task_id for row in rows}
    for task_id, timer in timers.items():
        if task_id in known:
            continue
        db.session.add(
            Timer(
                application_id=application.id,
                task_id=task_id,
                element_id=timer.element_id,
                attached_to=timer.attached_to,
                interrupting=timer.interrupting,
                due_at=timer.due,
                status="pending",
                created_at=now,
            )
        )
