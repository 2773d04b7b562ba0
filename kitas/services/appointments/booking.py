"""Moving or cancelling a booked appointment while the case waits for it (until 24 hours before), by
whoever the diagram's booking lane names: the applicant her biometrics, an officer the family interview."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forms.texts import Message

from ...extensions import app_clock
from ...models import Application, HumanTask, User
from ..cases import find_case
from ..cases.access import OFFICER_ROLES, can_see_case
from ..cases.listings import open_tasks
from ..cases.unit_of_work import CaseStep, case_step
from ..errors import Conflict, NotFound
from .choices import SlotChoices, slot_choices
from .kinds import BY_KIND, CHANGE_UNTIL, AppointmentStep
from .places import active_booking, audit_detail, bookable_slot, booking_data, end_booking, replan_reminders, take_place

TOO_LATE = Message("an appointment less than 24 hours away can no longer be changed or cancelled")


@dataclass
class ChangePage:
    reference: str
    step: AppointmentStep
    choices: SlotChoices


def _waiting(
    application: Application, tasks: list[HumanTask], kind: str, user: User
) -> tuple[AppointmentStep, HumanTask]:
    """The kind's appointment step the case waits at, if ``user`` may change its booking."""
    appointment = BY_KIND.get(kind)
    if appointment is None or not can_see_case(application, user):
        raise NotFound(Message("there is no such appointment"))
    if appointment.booked_by == "applicant":
        allowed = application.applicant_id == user.id
    else:
        allowed = any(user.has_role(role) for role in OFFICER_ROLES)
    task = next((t for t in tasks if t.element_id == appointment.attend_task), None)
    if not allowed or task is None:
        raise NotFound(Message("this application has no appointment you can change now"))
    return appointment, task


def change_page(reference: str, kind: str, user: User) -> ChangePage:
    """The booking and the free times to move it to (NotFound when there is nothing to change)."""
    application = find_case(reference, user)
    appointment, _ = _waiting(application, open_tasks(application.id), kind, user)
    return ChangePage(reference, appointment, slot_choices(application, appointment, app_clock().now()))


def rebook(reference: str, kind: str, user: User, slot_id: Any) -> None:
    """Move the booking to another free time (or book one after a cancellation)."""
    application = find_case(reference, user)
    with case_step(application.id, user=user) as step:
        appointment, task = _waiting(step.application, list(step.tasks().values()), kind, user)
        previous = active_booking(step.application.id, appointment.kind)
        if previous is not None and previous.slot.starts_at - step.now < CHANGE_UNTIL:
            raise Conflict(TOO_LATE)
        slot = bookable_slot(step.application, appointment, slot_id, step.now)
        if previous is not None:
            end_booking(previous, "cancelled", user, step.now)
        take_place(slot, step.application.id, appointment.kind, user, step.now)
        _into_case(step, appointment, task, booking_data(step.application, appointment, slot))
        step.audit("appointment_rebooked", audit_detail(appointment, slot), user=user)


def cancel(reference: str, kind: str, user: User) -> None:
    """Cancel the booking: its place is free again and the case waits for a new booking."""
    application = find_case(reference, user)
    with case_step(application.id, user=user) as step:
        appointment, task = _waiting(step.application, list(step.tasks().values()), kind, user)
        previous = active_booking(step.application.id, appointment.kind)
        if previous is None:
            raise Conflict(Message("there is no booked appointment to cancel"))
        if previous.slot.starts_at - step.now < CHANGE_UNTIL:
            raise Conflict(TOO_LATE)
        end_booking(previous, "cancelled", user, step.now)
        _into_case(step, appointment, task, booking_data(step.application, appointment, None))
        step.audit("appointment_cancelled", audit_detail(appointment, previous.slot), user=user)


def _into_case(step: CaseStep, appointment: AppointmentStep, task: HumanTask, data: dict[str, Any]) -> None:
    step.run(lambda runtime: runtime.correct_waiting_data(task.task_id, data))
    replan_reminders(step.application, data, step.now)
