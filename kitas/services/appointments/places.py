"""A case's place in a slot, inside the case's own step (the booking step's completion, a rebooking, a
cancellation, the officer's attended / missed): the place is taken by one conditional UPDATE, so the
slot's capacity holds whoever books at the same moment, and the booking's time goes into the case data
the diagram and the reminders read."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from forms.texts import Message

from ...extensions import db
from ...models import Application, Appointment, AppointmentSlot, HumanTask, User
from ..errors import InvalidInput
from .kinds import BY_ATTEND_TASK, BY_BOOK_TASK, AppointmentStep, case_office, local, within_hours

if TYPE_CHECKING:
    from ..cases.unit_of_work import CaseStep

SLOT_FIELD = "appointment_slot"
OUTCOME_FIELD = "appointment_outcome"
SLOT_FULL = Message("this time is full: every place was booked; choose another time")


def refused(message: Message) -> InvalidInput:
    return InvalidInput({SLOT_FIELD: [message]})


def active_booking(application_id: int, kind: str) -> Appointment | None:
    return db.session.scalars(
        select(Appointment).where(
            Appointment.application_id == application_id, Appointment.kind == kind, Appointment.status == "booked"
        )
    ).first()


def bookable_slot(application: Application, step: AppointmentStep, slot_id: Any, now: datetime) -> AppointmentSlot:
    """The slot, if this case may book it now: its office's, of the step's kind, ahead and in working hours."""
    office, _ = case_office(application)
    slot = db.session.get(AppointmentSlot, slot_id) if isinstance(slot_id, int) else None
    if slot is None or office is None or slot.office_id != office.id or slot.kind != step.kind:
        raise refused(Message("choose one of the free times of the office shown"))
    if slot.starts_at <= now:
        raise refused(Message("this time has already passed; choose a later one"))
    if not within_hours(office, slot.starts_at, slot.ends_at):
        raise refused(Message("this time is outside the office's working hours; choose another one"))
    if slot.booked >= slot.capacity:
        raise refused(SLOT_FULL)
    return slot


def take_place(slot: AppointmentSlot, application_id: int, kind: str, user: User | None, now: datetime) -> Appointment:
    """Take one place of the slot for the case (inside the caller's transaction): the count rises only
    while a place is free, decided by the database row itself; SLOT_FULL otherwise."""
    taken = db.session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == slot.id, AppointmentSlot.booked < AppointmentSlot.capacity)
        .values(booked=AppointmentSlot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise refused(SLOT_FULL)
    booking = Appointment(
        slot_id=slot.id,
        application_id=application_id,
        kind=kind,
        status="booked",
        booked_at=now,
        booked_by_id=user.id if user is not None else None,
    )
    db.session.add(booking)
    db.session.flush()
    db.session.expire(slot, ["booked"])
    return booking


def end_booking(booking: Appointment, status: str, user: User | None, now: datetime) -> None:
    """The booking stops being active: cancelled (its place is given back), attended or missed."""
    if status == "cancelled":
        db.session.execute(
            update(AppointmentSlot)
            .where(AppointmentSlot.id == booking.slot_id, AppointmentSlot.booked > 0)
            .values(booked=AppointmentSlot.booked - 1)
            .execution_options(synchronize_session=False)
        )
    booking.status, booking.ended_at = status, now
    booking.ended_by_id = user.id if user is not None else None
    db.session.flush()


def booking_data(application: Application, step: AppointmentStep, slot: AppointmentSlot | None) -> dict[str, Any]:
    """The case data of a booking (None values when there is none): the office, the day in the office's
    zone (the reminder's date field) and the time in UTC."""
    if slot is None:
        return {step.office_field: None, step.date_field: None, step.time_field: None, SLOT_FIELD: None}
    office = slot.office
    return {
        step.office_field: office.name,
        step.office_field + "_code": office.code,
        step.date_field: local(office, slot.starts_at).date().isoformat(),
        step.time_field: slot.starts_at.isoformat(),
        SLOT_FIELD: slot.id,
    }


def audit_detail(step: AppointmentStep, slot: AppointmentSlot) -> dict[str, Any]:
    """What the case's history says of a booking: the kind, the slot, its time and office."""
    return {"kind": step.kind, "slot": slot.id, "at": slot.starts_at.isoformat(), "office": slot.office.name}


def replan_reminders(application: Application, data: dict[str, Any], now: datetime) -> None:
    from ..reminders import replan_date_reminders  # reminders read cases, which call this module

    replan_date_reminders(application, data, now)


def in_step(step: CaseStep, task: HumanTask, user: User, clean: dict[str, Any]) -> dict[str, Any]:
    """Called as a task completes, inside its step: a booking step takes its place in the chosen slot and
    hands the booking's data to the case; the step held at an appointment records attended or missed."""
    booking_step = BY_BOOK_TASK.get(task.element_id)
    if booking_step is not None:
        application = step.application
        slot = bookable_slot(application, booking_step, clean.get(SLOT_FIELD), step.now)
        if application.trial:  # a trial case takes no place in an office's times: the time is only noted
            step.audit("appointment_booked", {**audit_detail(booking_step, slot), "trial": True}, user=user)
            return {**clean, **booking_data(application, booking_step, slot), OUTCOME_FIELD: "booked"}
        previous = active_booking(application.id, booking_step.kind)
        if previous is not None:
            end_booking(previous, "cancelled", user, step.now)
        take_place(slot, application.id, booking_step.kind, user, step.now)
        data = {**clean, **booking_data(application, booking_step, slot), OUTCOME_FIELD: "booked"}
        replan_reminders(application, data, step.now)
        step.audit("appointment_booked", audit_detail(booking_step, slot), user=user)
        return data
    attend_step = BY_ATTEND_TASK.get(task.element_id)
    if attend_step is not None:
        outcome = "missed" if clean.get(OUTCOME_FIELD) == "missed" else "attended"
        booking = active_booking(step.application.id, attend_step.kind)
        if booking is not None:
            end_booking(booking, outcome, user, step.now)
        return {**clean, OUTCOME_FIELD: outcome}
    return clean
