"""Which steps of the diagrams book an appointment, where the booking goes in the case data, and the
office's local time (its zone, its label, its working hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ...extensions import db
from ...models import Application, Office


@dataclass(frozen=True)
class AppointmentStep:
    """A booking step of the diagrams: its kind, the case data fields the booking fills (the reminder
    reads ``date_field``), the step held at the appointment (where attended / missed is recorded) and
    the lane that books (the applicant books her biometrics, a verifier the family interview)."""

    kind: str
    book_task: str
    attend_task: str
    date_field: str
    time_field: str
    office_field: str
    booked_by: str  # "applicant" or "officer"


STEPS = (
    AppointmentStep(
        "biometrics",
        "book_biometrics",
        "capture_biometrics",
        "appointment_date",
        "appointment_at",
        "office",
        "applicant",
    ),
    AppointmentStep(
        "interview",
        "schedule_family_interview",
        "conduct_family_interview",
        "interview_date",
        "interview_at",
        "interview_office",
        "officer",
    ),
)
BY_BOOK_TASK = {step.book_task: step for step in STEPS}
BY_ATTEND_TASK = {step.attend_task: step for step in STEPS}
BY_KIND = {step.kind: step for step in STEPS}
# An appointment closer than this can no longer be moved or cancelled.
CHANGE_UNTIL = timedelta(hours=24)
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def zone_of(office: Office) -> ZoneInfo:
    return ZoneInfo(office.time_zone)


def zone_label(office: Office) -> str:
    """WIB, WITA or WIT (the zone's own name for a zone outside Indonesia)."""
    return ZONE_LABELS.get(office.time_zone, office.time_zone)


def local(office: Office, moment: datetime) -> datetime:
    return moment.astimezone(zone_of(office))


def working_days(office: Office) -> set[int]:
    return {int(day) for day in office.working_days.split(",") if day.strip()}


def hours_of(office: Office) -> tuple[time, time]:
    return time.fromisoformat(office.opens), time.fromisoformat(office.closes)


def within_hours(office: Office, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether the time lies on one working day of the office, between its opening and closing."""
    start, end = local(office, starts_at), local(office, ends_at)
    opens, closes = hours_of(office)
    return (
        start.date() == end.date()
        and start.isoweekday() in working_days(office)
        and opens <= start.time()
        and end.time() <= closes
    )


def at_local(office: Office, day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, zone_of(office))


def case_office(application: Application) -> tuple[Office | None, bool]:
    """The case's office, or the first active office when the case has none yet: (office, fallen back)."""
    if application.office_id is not None:
        office = db.session.get(Office, application.office_id)
        if office is not None:
            return office, False
    first = db.session.scalars(select(Office).where(Office.active.is_(True)).order_by(Office.id)).first()
    return first, True
