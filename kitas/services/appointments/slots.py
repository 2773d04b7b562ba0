"""The officers' side of appointments: publish slots (one, or a series over working days) in the
office's local time, see a day's appointments of an office, record attended or missed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import APPOINTMENT_KINDS, Application, Appointment, AppointmentSlot, HumanTask, Office, User
from ...transactions import write_transaction
from ..errors import Conflict, InvalidInput, NotFound
from ..offices.scope import visible_office_ids
from .kinds import BY_KIND, at_local, hours_of, local, within_hours, working_days, zone_label
from .places import OUTCOME_FIELD

MAX_CAPACITY = 50
MAX_SERIES_DAYS = 62
LENGTHS = (10, 15, 20, 30, 45, 60, 90, 120)


@dataclass
class SlotRequest:
    """What an officer asks for, as typed (strings from the form); ``last_day``/``every`` for a series."""

    office_id: str
    kind: str
    day: str
    start: str
    minutes: str
    capacity: str
    last_day: str = ""
    every: str = ""


@dataclass
class DayRow:
    slot: AppointmentSlot
    starts: datetime  # in the office's zone
    ends: datetime
    bookings: list[tuple[Appointment, Application, str]] = field(default_factory=list)


@dataclass
class DayView:
    offices: list[Office]
    office: Office | None
    day: date
    zone: str
    rows: list[DayRow]


def my_offices(user: User) -> list[Office]:
    """The active offices the officer works in (every active office for an admin)."""
    visible = visible_office_ids(user)
    query = select(Office).where(Office.active.is_(True)).order_by(Office.name)
    if visible is not None:
        query = query.where(Office.id.in_(visible or {-1}))
    return list(db.session.scalars(query))


def office_for(user: User, office_id: object) -> Office:
    """One of the officer's offices, or NotFound."""
    for office in my_offices(user):
        if str(office.id) == str(office_id):
            return office
    raise NotFound(Message("there is no such office among yours"))


def publish(user: User, request: SlotRequest) -> int:
    """Publish one slot, or with ``last_day`` a series (every working day from ``day`` to ``last_day``, a
    slot every ``every`` minutes from ``start`` while it ends by closing time); returns how many. Every
    problem of the request is named by field; a series skips times already published or past."""
    office = office_for(user, request.office_id)
    errors: dict[str, list[str]] = {}

    def bad(key: str, message: Message) -> None:
        errors.setdefault(key, []).append(message)

    if request.kind not in APPOINTMENT_KINDS:
        bad("kind", Message("choose biometrics or interview"))
    first = _day(request.day)
    if first is None:
        bad("day", Message("enter the date as YYYY-MM-DD"))
    start = _clock(request.start)
    if start is None:
        bad("start", Message("enter the time as HH:MM"))
    minutes = _number(request.minutes)
    if minutes not in LENGTHS:
        bad("minutes", Message("choose one of the offered lengths"))
    capacity = _number(request.capacity)
    if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
        bad("capacity", Message("enter a number of places from 1 to %(most)s", most=MAX_CAPACITY))
    series = bool(request.last_day.strip())
    last, every = first, minutes
    if series:
        last = _day(request.last_day)
        if last is None:
            bad("last_day", Message("enter the date as YYYY-MM-DD"))
        every = _number(request.every)
        if every is None or not 5 <= every <= 240:
            bad("every", Message("enter a number of minutes from 5 to 240"))
        if isinstance(first, date) and isinstance(last, date):
            if last < first:
                bad("last_day", Message("the last day is before the first"))
            elif (last - first).days > MAX_SERIES_DAYS:
                bad("last_day", Message("a series covers at most %(days)s days", days=MAX_SERIES_DAYS))
    if errors:
        raise InvalidInput(errors)
    assert isinstance(first, date) and isinstance(last, date) and isinstance(start, time)
    assert minutes is not None and capacity is not None and every is not None
    now = app_clock().now()
    length = timedelta(minutes=minutes)
    if not series:
        starts_at = at_local(office, first, start)
        problem = _refusal(office, starts_at, starts_at + length, now)
        if problem is not None:
            raise InvalidInput({"start": [problem]})
        times = [starts_at]
    else:
        times = _series(office, first, last, start, length, timedelta(minutes=every), now)
        if not times:
            raise InvalidInput(
                {"start": [Message("no time of this series is ahead and within the office's working hours")]}
            )
    with write_transaction():
        taken = set(
            db.session.scalars(
                select(AppointmentSlot.starts_at).where(
                    AppointmentSlot.office_id == office.id,
                    AppointmentSlot.kind == request.kind,
                    AppointmentSlot.starts_at.in_(times),
                )
            )
        )
        fresh = [t for t in times if t not in taken]
        if not fresh:
            raise Conflict(Message("these times are already published"))
        for starts_at in fresh:
            db.session.add(
                AppointmentSlot(
                    office_id=office.id,
                    kind=request.kind,
                    starts_at=starts_at,
                    ends_at=starts_at + length,
                    capacity=capacity,
                    booked=0,
                    created_by_id=user.id,
                    created_at=now,
                )
            )
    return len(fresh)


def _refusal(office: Office, starts_at: datetime, ends_at: datetime, now: datetime) -> Message | None:
    if starts_at <= now:
        return Message("this time has already passed")
    if local(office, starts_at).isoweekday() not in working_days(office):
        return Message("the office does not work on this day")
    if not within_hours(office, starts_at, ends_at):
        opens, closes = hours_of(office)
        return Message(
            "the office works from %(opens)s to %(closes)s %(zone)s; the appointment must start and end within",
            opens=opens.strftime("%H:%M"),
            closes=closes.strftime("%H:%M"),
            zone=zone_label(office),
        )
    return None


def _series(
    office: Office, first: date, last: date, start: time, length: timedelta, every: timedelta, now: datetime
) -> list[datetime]:
    """Every time from ``start`` every ``every`` on each day from ``first`` to ``last`` that the office
    takes: a working day, within its hours, ahead of now."""
    times = []
    closes = hours_of(office)[1]
    day = first
    while day <= last:
        moment = at_local(office, day, start)
        while local(office, moment).date() == day and local(office, moment).time() < closes:
            if _refusal(office, moment, moment + length, now) is None:
                times.append(moment)
            moment += every
        day += timedelta(days=1)
    return times


def day_view(user: User, office_id: object, day_text: str | None) -> DayView:
    """One office's appointments of one day (the office's local day): each slot, its places and bookings."""
    offices = my_offices(user)
    if not offices:
        return DayView([], None, app_clock().now().date(), "", [])
    office = office_for(user, office_id) if office_id else offices[0]
    today = local(office, app_clock().now()).date()
    day = _day(day_text or "") or today
    begin, end = at_local(office, day, time(0)), at_local(office, day + timedelta(days=1), time(0))
    slots = db.session.scalars(
        select(AppointmentSlot)
        .where(AppointmentSlot.office_id == office.id, AppointmentSlot.starts_at >= begin)
        .where(AppointmentSlot.starts_at < end)
        .order_by(AppointmentSlot.starts_at, AppointmentSlot.kind)
    ).all()
    rows = {s.id: DayRow(s, local(office, s.starts_at), local(office, s.ends_at)) for s in slots}
    if rows:
        found = db.session.execute(
            select(Appointment, Application)
            .join(Application, Application.id == Appointment.application_id)
            .options(joinedload(Application.applicant))
            .where(Appointment.slot_id.in_(rows), Appointment.status != "cancelled")
            .order_by(Appointment.booked_at)
        ).all()
        for booking, application in found:
            name = application.applicant_name or (application.applicant.full_name if application.applicant else "")
            rows[booking.slot_id].bookings.append((booking, application, name or ""))
    return DayView(offices, office, day, zone_label(office), list(rows.values()))


def mark_attended(user: User, appointment_id: int) -> Appointment:
    """The person came: the booking is marked attended (the step at the office is then completed on the
    case's task page, as before)."""
    with write_transaction():
        booking = _booking_of_mine(user, appointment_id)
        if booking.status != "booked":
            raise Conflict(Message("this appointment is already recorded"))
        booking.status, booking.ended_at, booking.ended_by_id = "attended", app_clock().now(), user.id
    return booking


def mark_missed(user: User, appointment_id: int) -> Appointment:
    """The person did not come: the step held at the appointment is completed as missed (the officer
    starts working on it first when nobody holds it), and the diagram books again or closes the case."""
    from ..cases import complete_task  # cases call the booking code inside their steps
    from ..cases.claims import claim_task

    booking = _booking_of_mine(user, appointment_id)
    if booking.status != "booked":
        raise Conflict(Message("this appointment is already recorded"))
    if booking.slot.starts_at > app_clock().now():
        raise Conflict(Message("an appointment can be recorded as missed only once its time has come"))
    task = open_step_of(booking)
    if task is None:
        raise Conflict(Message("the case no longer waits for this appointment"))
    application = db.session.get(Application, booking.application_id)
    assert application is not None
    application_id, task_id, claimed_by = application.id, task.task_id, task.claimed_by_id
    if claimed_by is None:
        claim_task(application.reference, task_id, user)
    complete_task(application_id, task_id, user, {OUTCOME_FIELD: "missed"})
    refreshed = db.session.get(Appointment, appointment_id)
    assert refreshed is not None
    return refreshed


def open_step_of(booking: Appointment) -> HumanTask | None:
    """The case's open step held at this appointment (capture the biometrics, conduct the interview)."""
    step = BY_KIND[booking.kind]
    return db.session.scalars(
        select(HumanTask).where(
            HumanTask.application_id == booking.application_id, HumanTask.element_id == step.attend_task
        )
    ).first()


def _booking_of_mine(user: User, appointment_id: int) -> Appointment:
    booking = db.session.get(Appointment, appointment_id)
    visible = visible_office_ids(user)
    if booking is None or (visible is not None and booking.slot.office_id not in visible):
        raise NotFound(Message("there is no such appointment"))
    return booking


def booking_for(user: User, appointment_id: int) -> Appointment:
    """A booking at one of the officer's offices, or NotFound."""
    return _booking_of_mine(user, appointment_id)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _clock(text: str) -> time | None:
    try:
        value = time.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if len(text.strip()) == 5 else None


def _number(text: str) -> int | None:
    try:
        return int(str(text).strip())
    except ValueError:
        return None
