"""Officers claim a task so that two people do not work on it at once, and release it again; supervisors
assign a task to a named officer of its lane and take one back. Only the officer holding an officer's
task may decide it (``CaseStep.check_claim``); everyone sees who holds it. Nobody claims, or is given, a task
the diagram's four-eyes rule keeps them from (``CaseStep.check_four_eyes``)."""

from __future__ import annotations

from sqlalchemy import select

from forms.texts import Message

from ...extensions import db
from ...models import HumanTask, Role, User, user_roles
from ..deployments import process_model
from ..errors import Conflict, Forbidden, NotFound
from ..offices.scope import visible_office_ids
from . import four_eyes
from .access import OFFICER_ROLES, officer_sees
from .lifecycle import find_case
from .unit_of_work import ANOTHER_OFFICER, CaseStep, case_step, read_runtime

SUPERVISOR = "supervisor"


def claim_task(reference: str, task_id: str, user: User) -> HumanTask:
    """Claim an open task of the officer's role; someone else's claim is a conflict naming them."""
    application = find_case(reference, user)
    with case_step(application.id, user=user, task_id=task_id) as step:
        task = _task_of_my_lane(step, task_id, user)
        if task.claimed_by_id == user.id:
            return task
        if task.claimed_by_id is not None:
            raise _held_by(task)
        step.check_four_eyes(task, user)
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


def assign_task(reference: str, task_id: str, supervisor: User, officer_id: int) -> HumanTask:
    """A supervisor gives an officer's task to a named, active officer of its lane (whoever held it before)."""
    application = find_case(reference, supervisor)
    with case_step(application.id, user=supervisor, task_id=task_id) as step:
        task = _supervised_task(step, task_id, supervisor)
        officer = db.session.get(User, officer_id)
        if officer is None or not officer.is_active or not officer.has_role(task.role):
            raise NotFound(
                Message("there is no active officer with the role %(role)s to give this task to", role=task.role)
            )
        if not officer_sees(step.application, officer):
            raise NotFound(
                Message(
                    "%(officer)s does not work in this case's office; give the task to one who does",
                    officer=officer.label,
                )
            )
        if task.claimed_by_id == officer.id:
            return task
        step.check_four_eyes(task, officer, assigning=True)
        previous = task.claimed_by_id
        task.claimed_by_id = officer.id
        task.claimed_at = step.now
        detail = {"task": task.element_id, "task_id": task_id, "officer": officer.label, "officer_id": officer.id}
        step.audit("task_assigned", {**detail, "previous_id": previous}, user=supervisor)
    return task


def take_back_task(reference: str, task_id: str, supervisor: User) -> HumanTask:
    """A supervisor takes a task back from the officer holding it: it returns to the shared inbox."""
    application = find_case(reference, supervisor)
    with case_step(application.id, user=supervisor, task_id=task_id) as step:
        task = _supervised_task(step, task_id, supervisor)
        if task.claimed_by_id is None:
            return task
        holder = db.session.get(User, task.claimed_by_id)
        step.audit(
            "task_taken_back",
            {
                "task": task.element_id,
                "task_id": task_id,
                "officer": holder.label if holder else "",
                "officer_id": task.claimed_by_id,
            },
            user=supervisor,
        )
        task.claimed_by_id = None
        task.claimed_at = None
    return task


def officers_for(role: str, office_id: int | None = None) -> list[User]:
    """The active officers a supervisor may give a task of ``role`` to, by name (with ``office_id``: those
    who work in that office)."""
    if role not in OFFICER_ROLES:
        return []
    query = (
        select(User)
        .join(user_roles, user_roles.c.user_id == User.id)
        .join(Role, Role.id == user_roles.c.role_id)
        .where(Role.name == role, User.is_active.is_(True))
        .order_by(User.full_name, User.id)
    )
    officers = list(db.session.scalars(query))
    if office_id is None:
        return officers
    return [officer for officer in officers if _works_in(officer, office_id)]


def _works_in(officer: User, office_id: int) -> bool:
    offices = visible_office_ids(officer)
    return offices is None or office_id in offices


def assignable_officers(task_id: str, user: User) -> list[User]:
    """For a supervisor: the officers of the task's lane and office it can be given to (not those the
    diagram's four-eyes rule keeps from it); nobody for anyone else."""
    if not user.has_role(SUPERVISOR):
        return []
    task = db.session.scalars(select(HumanTask).where(HumanTask.task_id == task_id)).first()
    if task is None or not task.role:
        return []
    officers = officers_for(task.role, task.office_id) if task.office_id is not None else officers_for(task.role)
    application = task.application
    if officers and process_model(application.definition).not_by_performer_of:
        not_by = read_runtime(application).not_by(task_id)  # four eyes: nobody it would be refused to
        officers = [officer for officer in officers if not four_eyes.barred(not_by, officer)]
    return officers


def _held_by(task: HumanTask) -> Conflict:
    """The refusal naming the officer who holds the task (and since when, if known)."""
    other = db.session.get(User, task.claimed_by_id)
    officer = other.label if other else ANOTHER_OFFICER
    if task.claimed_at is None:
        return Conflict(Message("%(officer)s claimed this task earlier", officer=officer))
    return Conflict(Message("%(officer)s claimed this task at %(when)s", officer=officer, when=task.claimed_at))


def _task_of_my_lane(step: CaseStep, task_id: str, user: User) -> HumanTask:
    """The open task (the case is locked) after checking the user works its lane (else Conflict or Forbidden)."""
    task = step.open_task(task_id)
    step.check_lane(task, user)
    return task


def _supervised_task(step: CaseStep, task_id: str, user: User) -> HumanTask:
    """The open officer's task (the case is locked), if the user is a supervisor (else Forbidden)."""
    if not user.has_role(SUPERVISOR):
        raise Forbidden(Message("only a supervisor can assign a task or take it back"))
    task = step.open_task(task_id)
    if task.role not in OFFICER_ROLES:
        raise Forbidden(Message("the task '%(task)s' is not an officer's task", task=task.name))
    return task
