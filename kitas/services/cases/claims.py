"""Officers claim a task so that two people do not work on it at once, and release it again."""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import app_clock, db
from ...localtime import local_time
from ...models import Application, HumanTask, User
from ...transactions import is_postgres, write_transaction
from .. import audit
from ..audit.refusals import audited_refusals
from ..errors import Conflict, Forbidden
from . import lifecycle as cases


def claim_task(reference: str, task_id: str, user: User) -> HumanTask:
    """Claim an open task of the officer's role; someone else's claim is a conflict naming them."""
    application = cases.find_case(reference, user)
    with audited_refusals(user, "application", application.id, task_id=task_id), write_transaction():
        task = _locked_task_of_my_lane(application, task_id, user)
        if task.claimed_by_id == user.id:
            return task
        if task.claimed_by_id is not None:
            other = db.session.get(User, task.claimed_by_id)
            when = local_time(task.claimed_at) if task.claimed_at else "earlier"
            raise Conflict(f"{other.label if other else 'another officer'} claimed this task at {when}")
        task.claimed_by_id = user.id
        task.claimed_at = app_clock().now()
        audit.record(
            "task_claimed",
            {"case": application.reference, "task": task.element_id, "task_id": task_id},
            user=user,
            application_id=application.id,
        )
    return task


def release_task(reference: str, task_id: str, user: User) -> HumanTask:
    """Give a claimed task back to the shared inbox; only the officer who claimed it may."""
    application = cases.find_case(reference, user)
    with audited_refusals(user, "application", application.id, task_id=task_id), write_transaction():
        task = _locked_task_of_my_lane(application, task_id, user)
        if task.claimed_by_id is None:
            return task
        if task.claimed_by_id != user.id:
            raise Forbidden("only the officer who claimed this task can release it")
        task.claimed_by_id = None
        task.claimed_at = None
        audit.record(
            "task_released",
            {"case": application.reference, "task": task.element_id, "task_id": task_id},
            user=user,
            application_id=application.id,
        )
    return task


def _locked_task_of_my_lane(application: Application, task_id: str, user: User) -> HumanTask:
    """The open task, row-locked, after checking the user works its lane (else Conflict or Forbidden)."""
    task = _lock_task(application.id, task_id)
    if task is None:
        cases.open_task(application, task_id)  # raises the Conflict saying who completed it
        raise Conflict("this task is no longer open")  # pragma: no cover - open_task always raises
    cases.check_lane(application, task, user)
    return task


def _lock_task(application_id: int, task_id: str) -> HumanTask | None:
    query = (
        select(HumanTask)
        .where(HumanTask.application_id == application_id, HumanTask.task_id == task_id)
        .execution_options(populate_existing=True)
    )
    if is_postgres():
        query = query.with_for_update()
    return db.session.scalars(query).first()
