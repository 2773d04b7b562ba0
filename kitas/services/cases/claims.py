"""Officers claim a task so that two people do not work on it at once, and release it again."""

from __future__ import annotations

from forms.texts import Message

from ...extensions import db
from ...models import HumanTask, User
from ..errors import Conflict, Forbidden
from .lifecycle import find_case
from .unit_of_work import ANOTHER_OFFICER, CaseStep, case_step


def claim_task(reference: str, task_id: str, user: User) -> HumanTask:
    """Claim an open task of the officer's role; someone else's claim is a conflict naming them."""
    application = find_case(reference, user)
    with case_step(application.id, user=user, task_id=task_id) as step:
        task = _task_of_my_lane(step, task_id, user)
        if task.claimed_by_id == user.id:
            return task
        if task.claimed_by_id is not None:
            other = db.session.get(User, task.claimed_by_id)
            officer = other.label if other else ANOTHER_OFFICER
            if task.claimed_at is None:
                raise Conflict(Message("%(officer)s claimed this task earlier", officer=officer))
            raise Conflict(Message("%(officer)s claimed this task at %(when)s", officer=officer, when=task.claimed_at))
        task.claimed_by_id = user.id
        task.claimed_at = step.now
        step.audit("task_claimed", {"task": task.element_id, "task_id": task_id}, user=user)
    return task


def release_task(reference: str, task_id: str, user: User) -> HumanTask:
    """Give a claimed task back to the shared inbox; only the officer who claimed it may."""
    application = find_case(reference, user)
    with case_step(application.id, user=user, task_id=task_id) as step:
        task = _task_of_my_lane(step, task_id, user)
        if task.claimed_by_id is None:
            return task
        if task.claimed_by_id != user.id:
            raise Forbidden(Message("only the officer who claimed this task can release it"))
        task.claimed_by_id = None
        task.claimed_at = None
        step.audit("task_released", {"task": task.element_id, "task_id": task_id}, user=user)
    return task


def _task_of_my_lane(step: CaseStep, task_id: str, user: User) -> HumanTask:
    """The open task (the case is locked) after checking the user works its lane (else Conflict or Forbidden)."""
    task = step.open_task(task_id)
    step.check_lane(task, user)
    return task
