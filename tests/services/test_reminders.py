"""Reminders: the catalog's rules, due at the right moment, sent once, in the reader's language and
channels, through the outbox (retried, then an incident)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine import ManualClock
from kitas.adapters.mail import OutgoingMail
from kitas.extensions import db
from kitas.jobs.scheduler import OUTBOX_JOBS
from kitas.models import Application, Incident, Notification, Reminder, User
from kitas.services import cases, leases, notifications, reminders
from kitas.services.appointments import booking
from tests.factories import make_office, make_slot
from tests.services.helpers import complete, request_corrections, start_until_payment, start_until_verification
from workflows import catalog

pytestmark = pytest.mark.usefixtures("worker")


class Mailer:
    """A mail server that keeps what it was given, or is down."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> None:
        if self.down:
            raise ConnectionRefusedError("mail server unreachable")
        self.sent.append(mail)


class Sms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))


def _reminded(user: User, rule: str) -> list[Notification]:
    rows = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.template == reminders.REMINDER)
    )
    return [row for row in rows if json.loads(row.body)["rule"] == rule]


def _phone(user: User, **settings: Any) -> User:
    user = db.session.merge(user)
    user.phone = "+6281234567890"
    for key, value in settings.items():
        setattr(user, key, value)
    db.session.commit()
    return user


def test_the_rules_are_the_catalogs() -> None:
    rules = catalog().reminders
    assert set(rules) == {
        "billing_code_expiring",
        "correction_deadline",
        "sponsor_not_answered",
        "appointment_tomorrow",
        "interview_tomorrow",
    }
    assert (rules["billing_code_expiring"].timer, rules["billing_code_expiring"].hours_before) == (
        "payment_deadline",
        24,
    )
    assert (rules["correction_deadline"].timer, rules["correction_deadline"].hours_before) == (
        "correction_deadline",
        48,
    )
    # Any open task of the sponsor's lane: the worker's sponsor_confirmation, the family's family_sponsor_confirmation.
    assert (rules["sponsor_not_answered"].role, rules["sponsor_not_answered"].hours_after) == ("sponsor", 72)
    assert rules["interview_tomorrow"].date_field == "interview_date"
    assert rules["appointment_tomorrow"].date_field == "appointment_date"
    indonesian = catalog("id").reminders["billing_code_expiring"]
    assert "kode billing" in indonesian.subject and indonesian.hours_before == 24
    assert ("send_reminders", "kitas.services.reminders:send_due_reminders") in OUTBOX_JOBS


def test_billing_code_expiring_is_sent_24_hours_before_once(users: dict[str, Any], clock: ManualClock) -> None:
    applicant = _phone(users["applicant"])
    application = start_until_payment(users)
    deadline = clock.now() + timedelta(days=7)
    assert reminders.send_due_reminders() == 0  # planned, not due
    [row] = db.session.scalars(select(Reminder)).all()
    assert (row.rule, row.due_at, row.event_at, row.status) == (
        "billing_code_expiring",
        deadline - timedelta(hours=24),
        deadline,
        "pending",
    )
    clock.set(deadline - timedelta(hours=24, seconds=1))
    assert reminders.send_due_reminders() == 0
    clock.advance(seconds=2)
    assert reminders.send_due_reminders() == 1
    assert reminders.send_due_reminders() == 0  # once
    clock.advance(hours=3)
    assert reminders.send_due_reminders() == 0
    sent = _reminded(applicant, "billing_code_expiring")
    assert sorted(r.channel for r in sent) == ["email", "in_app", "sms"]  # the catalog adds SMS for money
    assert all(r.link == f"/applications/{application.reference}" and r.application_id == application.id for r in sent)
    assert sent[0].subject == f"{application.reference}: your billing code expires in 24 hours"
    mailer, sms = Mailer(), Sms()
    notifications.deliver_due(mailer=mailer, sms=sms)
    [mail] = [m for m in mailer.sent if "billing code expires" in m.subject]
    assert "expires on 12 Jan 2026, 09:00 WIB" in mail.text  # 02:00 UTC in the reader's zone
    assert [text for _, text in sms.sent if "billing code expires in 24 hours" in text]


def test_correction_deadline_is_sent_48_hours_before(users: dict[str, Any], clock: ManualClock) -> None:
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "Passport scan unreadable.")
    deadline = clock.now() + timedelta(days=14)
    reminders.send_due_reminders()
    clock.set(deadline - timedelta(hours=48, seconds=1))
    assert reminders.send_due_reminders() == 0
    clock.advance(seconds=2)
    assert reminders.send_due_reminders() == 1
    assert reminders.send_due_reminders() == 0
    [in_app] = [r for r in _reminded(users["applicant"], "correction_deadline") if r.channel == "in_app"]
    assert in_app.subject == f"{application.reference}: send your corrections within 48 hours"


def test_a_sponsor_who_has_not_answered_is_reminded_after_3_days(users: dict[str, Any], clock: ManualClock) -> None:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    opened = clock.now()
    reminders.send_due_reminders()
    clock.set(opened + timedelta(days=3, seconds=-1))
    assert reminders.send_due_reminders() == 0
    clock.set(opened + timedelta(days=3))
    assert reminders.send_due_reminders() == 1
    assert reminders.send_due_reminders() == 0
    sent = _reminded(users["sponsor"], "sponsor_not_answered")
    assert sorted(r.channel for r in sent) == ["email", "in_app"]
    task_id = db.session.scalar(select(Reminder.subject).where(Reminder.rule == "sponsor_not_answered"))
    assert sent[0].link == f"/sponsor/applications/{application.reference}/tasks/{task_id}"
    assert "still waiting for your guarantee" in sent[0].subject
    assert _reminded(users["applicant"], "sponsor_not_answered") == []


def test_the_appointment_is_reminded_the_day_before(users: dict[str, Any], clock: ManualClock) -> None:
    application = start_until_verification(users)
    complete(application.id, "verify_documents", users["verifier"])
    complete(application.id, "supervisor_approval", users["supervisor"])
    # The planner passes while the booking step is open (no date yet), then she books a slot.
    assert reminders.send_due_reminders() == 0
    slot = make_slot(make_office(), datetime(2026, 1, 26, 3, 0, tzinfo=UTC))  # Monday 26 January, 10:00 WIB
    complete(application.id, "book_biometrics", users["applicant"], appointment_slot=slot.id)
    assert reminders.send_due_reminders() == 0
    [row] = db.session.scalars(select(Reminder).where(Reminder.rule == "appointment_tomorrow")).all()
    nine_wib = datetime(2026, 1, 25, 2, 0, tzinfo=UTC)  # 09:00 the day before, in the applicant's zone
    assert (row.subject, row.due_at, row.status) == ("2026-01-26", nine_wib, "pending")
    clock.set(nine_wib - timedelta(seconds=1))
    assert reminders.send_due_reminders() == 0
    clock.set(nine_wib)
    assert reminders.send_due_reminders() == 1
    assert reminders.send_due_reminders() == 0
    mailer = Mailer()
    notifications.deliver_due(mailer=mailer, sms=Sms())
    [mail] = [m for m in mailer.sent if "biometrics appointment is tomorrow" in m.subject]
    assert "tomorrow, 26 January 2026" in mail.text


def test_a_moved_appointment_moves_its_reminder_and_a_cancelled_one_drops_it(
    users: dict[str, Any], clock: ManualClock
) -> None:
    application = start_until_verification(users)
    complete(application.id, "verify_documents", users["verifier"])
    complete(application.id, "supervisor_approval", users["supervisor"])
    office = make_office()
    first = make_slot(office, datetime(2026, 1, 26, 3, 0, tzinfo=UTC))
    later = make_slot(office, datetime(2026, 1, 29, 7, 0, tzinfo=UTC))  # Thursday 29 January, 14:00 WIB
    complete(application.id, "book_biometrics", users["applicant"], appointment_slot=first.id)
    reference = db.session.get(Application, application.id).reference
    booking.rebook(reference, "biometrics", users["applicant"], later.id)
    [row] = db.session.scalars(select(Reminder).where(Reminder.rule == "appointment_tomorrow")).all()
    assert (row.subject, row.due_at) == ("2026-01-29", datetime(2026, 1, 28, 2, 0, tzinfo=UTC))
    assert cases.read_runtime(db.session.get(Application, application.id)).data["appointment_date"] == "2026-01-29"
    booking.cancel(reference, "biometrics", users["applicant"])
    assert db.session.scalars(select(Reminder).where(Reminder.rule == "appointment_tomorrow")).all() == []
    clock.set(datetime(2026, 1, 28, 2, 0, tzinfo=UTC))
    assert reminders.send_due_reminders() == 0  # nothing to remind of: the case has no appointment


def test_a_reminder_in_indonesian_for_an_indonesian_reader(users: dict[str, Any], clock: ManualClock) -> None:
    _phone(users["applicant"], language="id")
    application = start_until_payment(users)
    clock.advance(days=6, minutes=1)
    assert reminders.send_due_reminders() == 1
    mailer, sms = Mailer(), Sms()
    notifications.deliver_due(mailer=mailer, sms=sms)
    [mail] = [m for m in mailer.sent if "kode billing Anda berakhir" in m.subject]
    assert mail.subject == f"{application.reference}: kode billing Anda berakhir dalam 24 jam"
    assert "Bayar biaya sebelum waktu tersebut" in mail.text and "12 Jan 2026" in mail.text and "WIB" in mail.text
    assert [text for _, text in sms.sent if "kode billing Anda berakhir" in text]


def test_the_readers_channels_are_respected(users: dict[str, Any], clock: ManualClock) -> None:
    applicant = _phone(users["applicant"], notify_email=False, notify_sms=False)
    start_until_payment(users)
    clock.advance(days=6, minutes=1)
    assert reminders.send_due_reminders() == 1
    assert [r.channel for r in _reminded(applicant, "billing_code_expiring")] == ["in_app"]


def test_a_reminder_whose_deadline_is_gone_is_dropped(users: dict[str, Any], clock: ManualClock) -> None:
    from tests.worker_data import PAYMENT

    application = start_until_payment(users)
    reminders.send_due_reminders()
    cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")  # paid in time
    clock.advance(days=6, minutes=1)
    assert reminders.send_due_reminders() == 0
    assert db.session.scalar(select(Reminder.status).where(Reminder.rule == "billing_code_expiring")) == "dropped"
    assert _reminded(users["applicant"], "billing_code_expiring") == []


def test_two_schedulers_never_send_a_reminder_twice(ctx: Flask, users: dict[str, Any], clock: ManualClock) -> None:
    applications = [start_until_payment(users).id for _ in range(3)]
    clock.advance(days=6, minutes=1)
    applicant_id = users["applicant"].id
    db.session.remove()
    rounds = 4
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        with ctx.app_context():
            try:
                for _ in range(rounds):
                    barrier.wait()
                    counts.append(reminders.send_due_reminders())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and sum(counts) == len(applications)
    sent = [r for r in _reminded(db.session.get(User, applicant_id), "billing_code_expiring") if r.channel == "in_app"]
    assert sorted(r.application_id for r in sent) == sorted(applications)


def test_a_failed_send_is_retried_then_an_incident_and_the_case_goes_on(
    users: dict[str, Any], clock: ManualClock
) -> None:
    application = start_until_payment(users)
    notifications.deliver_due(mailer=Mailer(), sms=Sms())  # the news of the case so far went out
    clock.advance(days=6, minutes=1)
    assert reminders.send_due_reminders() == 1
    [email] = [r for r in _reminded(users["applicant"], "billing_code_expiring") if r.channel == "email"]
    policy = leases.KINDS["notification"].policy
    down = Mailer(down=True)
    assert notifications.deliver_due(mailer=down, sms=Sms()) == 1
    db.session.refresh(email)
    assert (email.attempts, email.sent_at, email.next_attempt_at) == (1, None, clock.now() + policy.first_delay)
    for _ in range(policy.max_attempts - 1):
        clock.advance(hours=7)
        notifications.deliver_due(mailer=down, sms=Sms())
    db.session.refresh(email)
    assert email.gave_up_at is not None and email.attempts == policy.max_attempts
    incident = db.session.scalars(select(Incident).where(Incident.application_id == application.id)).one()
    assert incident.kind == "notification_undeliverable" and "unreachable" in incident.error
    assert db.session.get(Application, application.id).status == "awaiting_payment"  # never blocks the case
    assert reminders.send_due_reminders() == 0  # and the reminder is not queued again
