"""Appointments: slots published in the office's time, booked by the diagram's booking step, moved or
cancelled until 24 hours before, attended or missed; the capacity held by the database under a race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from engine import ManualClock
from kitas.extensions import db
from kitas.models import Application, Appointment, AppointmentSlot, Office, User, officer_offices
from kitas.services import cases
from kitas.services.appointments import booking, places, slots
from kitas.services.errors import Conflict, InvalidInput, NotFound
from kitas.transactions import write_transaction
from tests.factories import make_office, make_slot, work_in
from tests.services.helpers import complete, open_task, start_until_verification

MONDAY_10_WIB = datetime(2026, 1, 12, 3, 0, tzinfo=UTC)  # a week after the test clock's start


def _at_booking(users: dict[str, Any], office: Office) -> Application:
    """A worker case of ``office`` waiting for its biometrics booking (its officers work there)."""
    application = start_until_verification(users)
    _set_office(application.id, office)
    for role in ("verifier", "supervisor"):
        work_in(users[role], office)
    complete(application.id, "verify_documents", users["verifier"])
    complete(application.id, "supervisor_approval", users["supervisor"])
    return db.session.get(Application, application.id)


def _set_office(application_id: int, office: Office) -> None:
    db.session.get(Application, application_id).office_id = office.id
    db.session.commit()


def _set_office_none(application_id: int) -> None:
    db.session.get(Application, application_id).office_id = None
    db.session.commit()


def _errors(caught: pytest.ExceptionInfo[InvalidInput]) -> str:
    return " ".join(str(m) for messages in caught.value.errors.values() for m in messages)


def _book(application: Application, user: User, slot_id: int) -> Application:
    task = open_task(application.id, "book_biometrics")
    return cases.complete_task(application.id, task.task_id, user, {"appointment_slot": slot_id})


# -- the database keeps the capacity -------------------------------------------------------------------


def test_many_applicants_on_the_last_places_at_once_get_exactly_the_capacity(
    ctx: Flask, worker: int, users: dict[str, Any]
) -> None:
    """Real threads, each on its own connection, book the same slot at the same moment: exactly
    ``capacity`` win; every other one is told the time is full, and nothing of theirs is written."""
    office = make_office()
    slot = make_slot(office, MONDAY_10_WIB, capacity=3)
    ids = [cases.start_case("worker", users["applicant"]).id for _ in range(10)]
    slot_id, user_id = slot.id, users["applicant"].id
    db.session.remove()
    barrier = threading.Barrier(len(ids))
    results: list[Any] = [None] * len(ids)

    def applicant(index: int) -> None:
        with ctx.app_context():
            try:
                user = db.session.get(User, user_id)
                chosen = db.session.get(AppointmentSlot, slot_id)
                barrier.wait()
                with write_transaction():
                    places.take_place(chosen, ids[index], "biometrics", user, MONDAY_10_WIB - timedelta(days=2))
                results[index] = "booked"
            except InvalidInput as exc:
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=applicant, args=(i,)) for i in range(len(ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert results.count("booked") == 3, results
    refused = [r for r in results if r != "booked"]
    assert len(refused) == 7 and all(isinstance(r, InvalidInput) for r in refused)
    assert all("this time is full" in str(r.errors["appointment_slot"][0]) for r in refused)
    assert db.session.get(AppointmentSlot, slot_id).booked == 3
    assert len(db.session.scalars(select(Appointment).where(Appointment.slot_id == slot_id)).all()) == 3


def test_the_database_itself_refuses_an_overbooked_slot_and_a_second_active_booking(
    ctx: Flask, worker: int, users: dict[str, Any]
) -> None:
    slot = make_slot(make_office(), MONDAY_10_WIB, capacity=1)
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE appointment_slot SET booked = 2 WHERE id = :id"), {"id": slot.id})
        db.session.commit()
    db.session.rollback()
    application_id = cases.start_case("worker", users["applicant"]).id
    other = make_slot(db.session.get(Office, slot.office_id), MONDAY_10_WIB + timedelta(hours=1), capacity=5)
    row = {"application_id": application_id, "kind": "biometrics", "status": "booked", "booked_at": MONDAY_10_WIB}
    db.session.add(Appointment(slot_id=slot.id, **row))
    db.session.commit()
    db.session.add(Appointment(slot_id=other.id, **row))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# -- booking in the diagram's step ---------------------------------------------------------------------


def test_booking_puts_the_office_day_and_time_into_the_case(worker: int, users: dict[str, Any]) -> None:
    office = make_office(code="MKS", name="Kantor Imigrasi Makassar", time_zone="Asia/Makassar")
    slot = make_slot(office, datetime(2026, 1, 12, 0, 30, tzinfo=UTC))  # 08:30 WITA, Monday 12 January
    application = _at_booking(users, office)
    booked = _book(application, users["applicant"], slot.id)
    data = cases.read_runtime(booked).data
    assert (data["office"], data["appointment_date"], data["appointment_at"]) == (
        "Kantor Imigrasi Makassar",
        "2026-01-12",
        "2026-01-12T00:30:00+00:00",
    )
    assert booked.status == "biometrics_appointment" and open_task(application.id, "capture_biometrics")
    assert db.session.get(AppointmentSlot, slot.id).booked == 1


def test_a_full_slot_a_past_slot_and_another_offices_slot_cannot_be_booked(
    worker: int, users: dict[str, Any], clock: ManualClock
) -> None:
    office = make_office()
    elsewhere = make_office(code="DPS", name="Kantor Imigrasi Denpasar", time_zone="Asia/Makassar")
    application = _at_booking(users, office)
    full = make_slot(office, MONDAY_10_WIB, capacity=1)
    full.booked = 1
    past = make_slot(office, clock.now() - timedelta(hours=1))
    theirs = make_slot(elsewhere, MONDAY_10_WIB)
    interview = make_slot(office, MONDAY_10_WIB + timedelta(hours=1), kind="interview")
    db.session.commit()
    for slot_id, words in (
        (full.id, "this time is full"),
        (past.id, "has already passed"),
        (theirs.id, "free times of the office shown"),
        (interview.id, "free times of the office shown"),
        (999999, "free times of the office shown"),
    ):
        with pytest.raises(InvalidInput) as caught:
            _book(application, users["applicant"], slot_id)
        assert words in _errors(caught)
    assert open_task(application.id, "book_biometrics")  # still waiting, nothing booked
    assert db.session.scalars(select(Appointment)).all() == []


def test_a_slot_outside_the_working_hours_cannot_be_booked(worker: int, users: dict[str, Any]) -> None:
    """The office's hours may change after a slot was published; the booking checks them again."""
    office = make_office()
    application = _at_booking(users, office)
    evening = make_slot(office, datetime(2026, 1, 12, 10, 0, tzinfo=UTC))  # 17:00 WIB, after closing
    with pytest.raises(InvalidInput) as caught:
        _book(application, users["applicant"], evening.id)
    assert "outside the office's working hours" in _errors(caught)


def test_a_case_without_an_office_books_at_the_first_active_office(worker: int, users: dict[str, Any]) -> None:
    first = make_office()
    slot = make_slot(first, MONDAY_10_WIB)
    application = start_until_verification(users)
    complete(application.id, "verify_documents", users["verifier"])
    complete(application.id, "supervisor_approval", users["supervisor"])
    _set_office_none(application.id)  # a case started before cases had offices, not backfilled yet
    _book(db.session.get(Application, application.id), users["applicant"], slot.id)
    assert cases.read_runtime(db.session.get(Application, application.id)).data["office"] == first.name


# -- moving and cancelling ------------------------------------------------------------------------------


def test_moving_until_24_hours_before_and_not_after(worker: int, users: dict[str, Any], clock: ManualClock) -> None:
    office = make_office()
    application = _at_booking(users, office)
    first, later = make_slot(office, MONDAY_10_WIB), make_slot(office, MONDAY_10_WIB + timedelta(days=1))
    _book(application, users["applicant"], first.id)
    booking.rebook(application.reference, "biometrics", users["applicant"], later.id)
    counts = [db.session.get(AppointmentSlot, slot.id).booked for slot in (first, later)]
    assert counts == [0, 1]
    data = cases.read_runtime(db.session.get(Application, application.id)).data
    assert data["appointment_date"] == "2026-01-13" and data["appointment_slot"] == later.id
    clock.set(MONDAY_10_WIB + timedelta(days=1) - timedelta(hours=23))  # 23 hours before the new time
    with pytest.raises(Conflict, match="less than 24 hours away"):
        booking.rebook(application.reference, "biometrics", users["applicant"], first.id)
    with pytest.raises(Conflict, match="less than 24 hours away"):
        booking.cancel(application.reference, "biometrics", users["applicant"])
    assert db.session.get(AppointmentSlot, later.id).booked == 1  # nothing moved


def test_cancelling_frees_the_place_and_the_case_waits_for_a_new_time(worker: int, users: dict[str, Any]) -> None:
    office = make_office()
    application = _at_booking(users, office)
    only = make_slot(office, MONDAY_10_WIB, capacity=1)
    _book(application, users["applicant"], only.id)
    booking.cancel(application.reference, "biometrics", users["applicant"])
    assert db.session.get(AppointmentSlot, only.id).booked == 0
    [cancelled] = db.session.scalars(select(Appointment)).all()
    assert cancelled.status == "cancelled"
    assert cases.read_runtime(db.session.get(Application, application.id)).data["appointment_date"] is None
    with pytest.raises(Conflict, match="no booked appointment"):
        booking.cancel(application.reference, "biometrics", users["applicant"])
    booking.rebook(application.reference, "biometrics", users["applicant"], only.id)  # the freed place again
    assert db.session.get(AppointmentSlot, only.id).booked == 1


def test_only_the_applicant_moves_her_biometrics(worker: int, users: dict[str, Any]) -> None:
    office = make_office()
    application = _at_booking(users, office)
    _book(application, users["applicant"], make_slot(office, MONDAY_10_WIB).id)
    with pytest.raises(NotFound):
        booking.cancel(application.reference, "biometrics", users["other_applicant"])
    with pytest.raises(NotFound):
        booking.cancel(application.reference, "biometrics", users["verifier"])


# -- publishing ----------------------------------------------------------------------------------------


def _request(office: Office, **typed: str) -> slots.SlotRequest:
    values = {"office_id": str(office.id), "kind": "biometrics", "day": "2026-01-12", "start": "09:00"}
    return slots.SlotRequest(**{**values, "minutes": "30", "capacity": "4", **typed})


def test_publishing_refuses_times_outside_hours_past_or_on_a_closed_day(
    worker: int, users: dict[str, Any], clock: ManualClock
) -> None:
    office = make_office()
    work_in(users["verifier"], office)
    for typed, words in (
        ({"start": "15:45"}, "works from 08:00 to 16:00 WIB"),
        ({"start": "07:30"}, "works from 08:00 to 16:00 WIB"),
        ({"day": "2026-01-10"}, "does not work on this day"),  # a Saturday
        ({"day": "2026-01-05", "start": "08:30"}, "already passed"),  # 08:30 WIB today, it is 09:00
        ({"capacity": "0"}, "from 1 to 50"),
        ({"minutes": "7"}, "offered lengths"),
        ({"day": "12/01/2026"}, "YYYY-MM-DD"),
    ):
        with pytest.raises(InvalidInput) as caught:
            slots.publish(users["verifier"], _request(office, **typed))
        assert words in _errors(caught), typed
    assert db.session.scalars(select(AppointmentSlot)).all() == []


def test_a_series_covers_the_working_days_within_the_hours(worker: int, users: dict[str, Any]) -> None:
    office = make_office()
    work_in(users["verifier"], office)
    # Friday 9 to Monday 12 January, every hour from 08:00, 30 minutes each: Friday and Monday only.
    series = _request(office, day="2026-01-09", last_day="2026-01-12", start="08:00", every="60")
    count = slots.publish(users["verifier"], series)
    assert count == 16
    starts = db.session.scalars(select(AppointmentSlot.starts_at).order_by(AppointmentSlot.starts_at)).all()
    assert starts[0] == datetime(2026, 1, 9, 1, 0, tzinfo=UTC) and starts[-1] == datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    with pytest.raises(Conflict, match="already published"):
        slots.publish(users["verifier"], series)


def test_an_officer_publishes_only_for_her_offices(worker: int, users: dict[str, Any]) -> None:
    office = make_office(code="MKS", name="Kantor Imigrasi Makassar", time_zone="Asia/Makassar")  # not hers
    with pytest.raises(NotFound):
        slots.publish(users["verifier"], _request(office))


# -- attended, missed ----------------------------------------------------------------------------------


def test_a_missed_appointment_is_booked_again_once_then_the_case_closes(
    worker: int, users: dict[str, Any], clock: ManualClock
) -> None:
    office = make_office()
    work_in(users["verifier"], office)
    application = _at_booking(users, office)
    first, second = make_slot(office, MONDAY_10_WIB), make_slot(office, MONDAY_10_WIB + timedelta(days=2))
    _book(application, users["applicant"], first.id)
    [booked] = db.session.scalars(select(Appointment)).all()
    with pytest.raises(Conflict, match="once its time has come"):
        slots.mark_missed(users["verifier"], booked.id)
    clock.set(MONDAY_10_WIB + timedelta(hours=1))
    assert slots.mark_missed(users["verifier"], booked.id).status == "missed"
    assert open_task(application.id, "book_biometrics")  # book again
    _book(application, users["applicant"], second.id)
    clock.set(MONDAY_10_WIB + timedelta(days=2, hours=1))
    again = db.session.scalars(select(Appointment).where(Appointment.status == "booked")).one()
    slots.mark_missed(users["verifier"], again.id)
    closed = db.session.get(Application, application.id)
    assert closed.status == "closed_missed_appointment" and closed.closed_at is not None


def test_the_day_list_shows_the_offices_appointments_and_attended_is_recorded(
    worker: int, users: dict[str, Any]
) -> None:
    office = make_office()
    work_in(users["verifier"], office)
    application = _at_booking(users, office)
    _book(application, users["applicant"], make_slot(office, MONDAY_10_WIB).id)
    view = slots.day_view(users["verifier"], office.id, "2026-01-12")
    [row] = view.rows
    [(appointment, case, name)] = row.bookings
    assert case.reference == application.reference and name and view.zone == "WIB"
    assert row.starts.strftime("%H:%M") == "10:00"
    assert slots.mark_attended(users["verifier"], appointment.id).status == "attended"
    with pytest.raises(Conflict, match="already recorded"):
        slots.mark_attended(users["verifier"], appointment.id)
    assert slots.day_view(users["verifier"], office.id, "2026-01-13").rows == []
    db.session.execute(officer_offices.delete().where(officer_offices.c.user_id == users["verifier2"].id))
    db.session.commit()
    with pytest.raises(NotFound):  # an officer who does not work in this office
        slots.mark_attended(users["verifier2"], appointment.id)
