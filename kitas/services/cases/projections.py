"""Keep the read projections (human_task and timer rows) equal to the engine's view of a case.

Written for the hot path: the unit of work knows which tasks and timers the projections held
before the step (the runtime's view when it began), so the difference is written with at most
one Core statement per table and kind of change, without reading the rows first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, update

from engine import CaseRuntime
from workflows import catalog

from ...extensions import db
from ...models import Application, HumanTask, Timer

# The tables, not the mapped classes: plain Core statements skip the ORM's bulk machinery on this hot path.
_TASK = HumanTask.__table__
_TIMER = Timer.__table__


def sync_projections(
    application: Application, runtime: CaseRuntime, now: datetime, before_tasks: set[str], before_timers: set[str]
) -> tuple[set[str], set[str]]:
    """Make the human_task and timer rows equal the engine's view, one statement per table and change.

    ``before_*`` are the READY task ids and pending timer ids the projections held before the step
    (the runtime's view when the step began; empty for a new case). Returns the ids they hold now.
    """
    timers = {t.task_id: t for t in runtime.pending_timers()}
    gone_timers = before_timers - timers.keys()
    if gone_timers:
        db.session.execute(
            update(_TIMER)
            .where(_TIMER.c.application_id == application.id, _TIMER.c.status == "pending")
            .where(_TIMER.c.task_id.in_(gone_timers))
            .values(status="cancelled", note="the case no longer waits on this timer")
        )
    new_timers = [t for task_id, t in timers.items() if task_id not in before_timers]
    if new_timers:
        db.session.execute(
            insert(_TIMER),
            [
                {
                    "application_id": application.id,
                    "task_id": t.task_id,
                    "element_id": t.element_id,
                    "attached_to": t.attached_to,
                    "interrupting": t.interrupting,
                    "due_at": t.due,
                    "status": "pending",
                    "created_at": now,
                }
                for t in new_timers
            ],
        )
    due_by_element: dict[str, datetime] = {}
    for timer in timers.values():
        if timer.attached_to and (
            timer.attached_to not in due_by_element or timer.due < due_by_element[timer.attached_to]
        ):
            due_by_element[timer.attached_to] = timer.due
    ready = {t.task_id: t for t in runtime.ready_user_tasks()}
    gone_tasks = before_tasks - ready.keys()
    if gone_tasks:
        db.session.execute(
            delete(_TASK).where(_TASK.c.application_id == application.id, _TASK.c.task_id.in_(gone_tasks))
        )
    new_tasks = [t for task_id, t in ready.items() if task_id not in before_tasks]
    if new_tasks:
        lanes = catalog()
        db.session.execute(
            insert(_TASK),
            [
                {
                    "application_id": application.id,
                    "task_id": t.task_id,
                    "element_id": t.element_id,
                    "name": t.name,
                    "lane": t.lane,
                    "role": lanes.role_for_lane(t.lane) or "",
                    "kitas_type": application.kitas_type,
                    "office_id": application.office_id,
                    "index_code": application.index_code,
                    "form_schema": t.form_schema,
                    "form_ui_schema": t.form_ui_schema,
                    "created_at": now,
                    "due_at": due_by_element.get(t.element_id),
                }
                for t in new_tasks
            ],
        )
    return set(ready), set(timers)
