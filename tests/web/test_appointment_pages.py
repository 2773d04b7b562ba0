"""The appointment pages: the applicant picks a free time of her office on the booking step, moves or
cancels it; the officers publish times and see the day's appointments of their office."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from engine import ManualClock
from kitas.extensions import db
from kitas.models import Application, Appointment, AppointmentSlot, Office
from tests.factories import give_offices, make_office, make_slot, work_in
from tests.services.helpers import complete, start_until_verification
from tests.web.pages import open_task_row

MONDAY_10_WIB = datetime(2026, 1, 12, 3, 0, tzinfo=UTC)


def _at_booking(users: dict[str, Any], office: Office) -> Application:
    application = start_until_verification(users)
    db.session.get(Application, application.id).office_id = office.id
    db.session.commit()
    for role in ("verifier", "supervisor"):
        work_in(users[role], office)
    complete(application.id, "verify_documents", users["verifier"])
    complete(application.id, "supervisor_approval", users["supervisor"])
    return db.session.get(Application, application.id)


def _booking_url(application: Application) -> str:
    return f"/applications/{application.reference}/tasks/{open_task_row(application.id, 'book_biometrics').task_id}"


def test_the_booking_step_lists_free_times_by_day_in_the_offices_zone(
    worker: int, users: dict[str, Any], client: FlaskClient, login_as: Any, clock: ManualClock
) -> None:
    office = make_office(code="MKS", name="Kantor Imigrasi Makassar", time_zone="Asia/Makassar")
    application = _at_booking(users, office)
    make_slot(office, datetime(2026, 1, 12, 0, 30, tzinfo=UTC), capacity=3)  # Monday 08:30 WITA
    make_slot(office, datetime(2026, 1, 13, 6, 0, tzinfo=UTC))  # Tuesday 14:00 WITA
    full = make_slot(office, datetime(2026, 1, 13, 1, 0, tzinfo=UTC), capacity=1)
    full.booked = 1
    make_slot(office, clock.now() - timedelta(hours=2))  # past
    db.session.commit()
    login_as(users["applicant"])
    page = client.get(_booking_url(application)).get_data(as_text=True)
    assert "Times are the local time of Kantor Imigrasi Makassar (WITA)." in page
    assert page.count('data-testid="slot-day"') == 2
    assert "Monday, 12 January 2026" in page and "Tuesday, 13 January 2026" in page
    assert "08:30–09:00 WITA" in page and "3 places free" in page and "14:00–14:30 WITA" in page
    assert "09:00–09:30 WITA" not in page  # the full one is not offered


def test_booking_a_full_or_past_slot_is_refused_on_the_page(
    worker: int, users: dict[str, Any], client: FlaskClient, login_as: Any, clock: ManualClock
) -> None:
    office = make_office()
    application = _at_booking(users, office)
    full = make_slot(office, MONDAY_10_WIB, capacity=1)
    full.booked = 1
    past = make_slot(office, clock.now() - timedelta(minutes=30))
    db.session.commit()
    login_as(users["applicant"])
    url = _booking_url(application)
    for slot, words in ((full, "this time is full"), (past, "already passed")):
        response = client.post(url, data={"appointment_slot": str(slot.id), "action": "submit"})
        assert response.status_code == 422
        assert words in response.get_data(as_text=True)
    assert db.session.scalars(select(Appointment)).all() == []
    good = make_slot(office, MONDAY_10_WIB + timedelta(hours=1))
    response = client.post(url, data={"appointment_slot": str(good.id), "action": "submit"})
    assert response.status_code == 302
    status = client.get(f"/applications/{application.reference}").get_data(as_text=True)
    assert "Monday, 12 January 2026 at 11:00 WIB, Kantor Imigrasi Jakarta Selatan" in status


def test_moving_within_24_hours_is_refused_and_cancelling_frees_the_place(
    worker: int, users: dict[str, Any], client: FlaskClient, login_as: Any, clock: ManualClock
) -> None:
    office = make_office()
    application = _at_booking(users, office)
    first = make_slot(office, MONDAY_10_WIB, capacity=1)
    later = make_slot(office, MONDAY_10_WIB + timedelta(days=1))
    complete(application.id, "book_biometrics", users["applicant"], appointment_slot=first.id)
    login_as(users["applicant"])
    url = f"/applications/{application.reference}/appointments/biometrics"
    clock.set(MONDAY_10_WIB - timedelta(hours=20))
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="too-late"' in page and 'data-testid="cancel-form"' not in page
    response = client.post(url, data={"appointment_slot": str(later.id)}, follow_redirects=True)
    assert "less than 24 hours away" in response.get_data(as_text=True)
    assert db.session.get(AppointmentSlot, first.id).booked == 1
    clock.set(MONDAY_10_WIB - timedelta(days=2))
    response = client.post(url, data={"action": "cancel"}, follow_redirects=True)
    assert "The appointment is cancelled" in response.get_data(as_text=True)
    assert db.session.get(AppointmentSlot, first.id).booked == 0
    assert 'data-testid="no-booking"' in response.get_data(as_text=True)
    # The other applicant may not touch it.
    login_as(users["other_applicant"])
    assert client.get(url).status_code == 404


def test_a_slot_outside_working_hours_is_refused_with_the_reason(
    worker: int, users: dict[str, Any], client: FlaskClient, login_as: Any
) -> None:
    office = make_office()
    work_in(users["verifier"], office)
    login_as(users["verifier"])
    form = {"office_id": str(office.id), "kind": "biometrics", "day": "2026-01-12", "minutes": "30", "capacity": "2"}
    response = client.post("/officer/appointments/slots", data={**form, "start": "16:30"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Nothing was published." in text and "works from 08:00 to 16:00 WIB" in text
    assert db.session.scalars(select(AppointmentSlot)).all() == []
    response = client.post("/officer/appointments/slots", data={**form, "start": "10:00"})
    assert response.status_code == 302
    assert db.session.scalars(select(AppointmentSlot.starts_at)).all() == [MONDAY_10_WIB]


def test_the_officer_of_the_office_sees_the_days_list_and_records_a_missed_appointment(
    worker: int, users: dict[str, Any], client: FlaskClient, login_as: Any, clock: ManualClock
) -> None:
    office = make_office()
    elsewhere = make_office(code="DPS", name="Kantor Imigrasi Denpasar", time_zone="Asia/Makassar")
    work_in(users["verifier"], office)
    give_offices(users["verifier2"], (elsewhere.code,))  # DPS only
    db.session.commit()
    application = _at_booking(users, office)
    slot = make_slot(office, MONDAY_10_WIB)
    complete(application.id, "book_biometrics", users["applicant"], appointment_slot=slot.id)
    login_as(users["verifier"])
    page = client.get(f"/officer/appointments?office={office.id}&day=2026-01-12").get_data(as_text=True)
    assert application.reference in page and "Ana Lima" in page and "10:00–10:30 WIB" in page
    assert "Biometrics" in page and 'data-testid="appointment-status">Booked<' in page
    [booking] = db.session.scalars(select(Appointment)).all()
    clock.set(MONDAY_10_WIB + timedelta(hours=1))
    back = {"office": office.id, "day": "2026-01-12"}
    response = client.post(f"/officer/appointments/{booking.id}/missed", data=back, follow_redirects=True)
    assert "Recorded: the appointment was missed." in response.get_data(as_text=True)
    assert 'data-testid="appointment-status">Missed<' in response.get_data(as_text=True)
    assert open_task_row(application.id, "book_biometrics")  # the applicant books again
    # Another office's officer neither sees the list nor records anything.
    login_as(users["verifier2"])
    assert client.get(f"/officer/appointments?office={office.id}&day=2026-01-12").status_code == 404
    own = client.get("/officer/appointments?day=2026-01-12").get_data(as_text=True)
    assert application.reference not in own and "Kantor Imigrasi Denpasar" in own
