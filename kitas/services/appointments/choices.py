"""What a booking page shows: the free times of the case's office, grouped by day in the office's zone,
and the case's current booking (whether it can still be changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from ...extensions import db
from ...models import Application, Appointment, AppointmentSlot, Office
from .kinds import CHANGE_UNTIL, AppointmentStep, case_office, local, within_hours, zone_label
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
        free = FreeTime(slot.id, local(office, slot.starts_at), local(office, slot.ends_at), slot.capacity - slot.booked)
        days.setdefault(free.starts.date(), []).append(free)
    choices = SlotChoices(step.kind, office, fallen_back, zone_label(office), sorted(days.items()))
    if booking is not None:
        slot = booking.slot
        choices.booking = booking
        choices.booked_time = FreeTime(slot.id, local(office, slot.starts_at), local(office, slot.ends_at), 0)
        choices.can_change = slot.starts_at - now >= CHANGE_UNTIL
    return choices
