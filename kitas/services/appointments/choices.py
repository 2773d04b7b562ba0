"""What a booking page shows: the free times of the case's office, grouped by day in the office's zone,
and the case's current booking (whether it can still be changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from ...extensions import app_clock, db
from ...models import Application, Appointment, AppointmentSlot, HumanTask, Office
from .kinds import BY_ATTEND_TASK, CHANGE_UNTIL, AppointmentStep, case_office, local, within_hours, zone_label
from .places import active_booking

SHOWN = 200  # free times offered at most (the nearest first)


@dataclass
class FreeTime:
    slot_id: int
    starts: datetime  # in the office's zone
    ends: datetime
    free: int


@dataclass
class SlotChoices:
    kind: str
    office: Office | None
    fallen_back: bool  # the case has no office yet: the first active office is offered
    zone: str
    days: list[tuple[date, list[FreeTime]]] = field(default_factory=list)
    booking: Appointment | None = None
    booked_time: FreeTime | None = None
    can_change: bool = True


def slot_choices(application: Application, step: AppointmentStep, now: datetime) -> SlotChoices:
    office, fallen_back = case_office(application)
    if office is None:
        return SlotChoices(step.kind, None, fallen_back, "")
    booking = active_booking(application.id, step.kind)
    found = db.session.scalars(
        select(AppointmentSlot)
        .where(AppointmentSlot.office_id == office.id, AppointmentSlot.kind == step.kind)
        .where(AppointmentSlot.starts_at > now, AppointmentSlot.booked < AppointmentSlot.capacity)
        .order_by(AppointmentSlot.starts_at)
        .limit(SHOWN)
    ).all()
    days: dict[date, list[FreeTime]] = {}
    for slot in found:
        if booking is not None and slot.id == booking.slot_id:
            continue
        if not within_hours(office, slot.starts_at, slot.ends_at):
            continue
        free = FreeTime(
            slot.id, local(office, slot.starts_at), local(office, slot.ends_at), slot.capacity - slot.booked
        )
        days.setdefault(free.starts.date(), []).append(free)
    choices = SlotChoices(step.kind, office, fallen_back, zone_label(office), sorted(days.items()))
    if booking is not None:
        slot = booking.slot
        choices.booking = booking
        choices.booked_time = FreeTime(slot.id, local(office, slot.starts_at), local(office, slot.ends_at), 0)
        choices.can_change = slot.starts_at - now >= CHANGE_UNTIL
    return choices


@dataclass
class BookedTime:
    """A booked appointment as the case's status page shows it; ``starts`` None: the case waits at its
    appointment step with nothing booked (cancelled), and a new time is to be chosen."""

    kind: str
    starts: datetime | None  # in the office's zone
    zone: str
    office: Office | None
    can_change: bool


def booked_appointments(application: Application) -> list[BookedTime]:
    """The case's active bookings (its biometrics, its interview), in the office's local time, and the
    appointment steps it waits at with nothing booked."""
    now = app_clock().now()
    found = db.session.scalars(
        select(Appointment).where(Appointment.application_id == application.id, Appointment.status == "booked")
    ).all()
    shown = []
    for booking in found:
        slot = booking.slot
        can_change = slot.starts_at - now >= CHANGE_UNTIL
        shown.append(
            BookedTime(
                booking.kind, local(slot.office, slot.starts_at), zone_label(slot.office), slot.office, can_change
            )
        )
    booked = {b.kind for b in shown}
    waiting = db.session.scalars(
        select(HumanTask.element_id).where(
            HumanTask.application_id == application.id, HumanTask.element_id.in_(list(BY_ATTEND_TASK))
        )
    ).all()
    for element_id in waiting:
        kind = BY_ATTEND_TASK[element_id].kind
        if kind not in booked:
            office, _ = case_office(application)
            shown.append(BookedTime(kind, None, zone_label(office) if office else "", office, True))
    return sorted(shown, key=lambda b: (b.starts is None, b.starts or now))
