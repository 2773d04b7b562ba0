"""The notification outbox: rows written with the use case, sent by the scheduler through the adapters."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from engine import ManualClock
from kitas.adapters.mail import LogMailer, OutgoingMail, SmtpMailer, mailer_from_config
from kitas.adapters.sms import SandboxSms, sms_sender_from_config
from kitas.extensions import db
from kitas.jobs.scheduler import OUTBOX_JOBS, outbox_pass
from kitas.models import Notification, User
from kitas.services import leases, notifications
from kitas.transactions import write_transaction
from tests.conftest import free_port
from tests.factories import make_user

POLICY = leases.KINDS["notification"].policy


class FailingMailer:
    """A mail server that is down for the first ``failures`` messages."""

    def __init__(self, failures: int = 10**6):
        self.failures = failures
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("mail server unreachable")
        self.sent.append(mail)


class RecordingSms:
    """An SMS provider that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))


@pytest.fixture()
def person(ctx: Flask) -> User:
    """A person with an e-mail address and a phone number."""
    user = make_user("applicant", email="ana@example.org", name="Ana Applicant")
    user.phone = "+6281234567890"
    db.session.commit()
    return user


def rows() -> list[Notification]:
    """Every notification row, fresh from the database."""
    db.session.rollback()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def queue(user: User, **kwargs: Any) -> int:
    """Notify inside a committed transaction, as a use case does."""
    with write_transaction():
        return notifications.notify(db.session.merge(user), "Correction requested", "Please fix your form.", **kwargs)


def test_notify_adds_one_row_per_channel(person: User, clock: ManualClock) -> None:
    queue(person, link="/applications/KITAS-1", channels=("in_app", "email", "sms", "email"))
    in_app, email, sms = rows()
    assert (in_app.channel, in_app.sent_at, in_app.next_attempt_at) == ("in_app", clock.now(), None)
    assert (email.channel, email.recipient, email.sent_at, email.next_attempt_at) == (
        "email",
        "ana@example.org",
        None,
        clock.now(),
    )
    assert (sms.channel, sms.recipient) == ("sms", "+6281234567890")


def test_no_sms_row_without_a_phone_number(ctx: Flask) -> None:
    user = make_user("applicant", email="nophone@example.org")
    queue(user, channels=("sms", "email"))
    assert [row.channel for row in rows()] == ["email"]


def test_unknown_channel_is_a_programming_error(person: User) -> None:
    with pytest.raises(ValueError, match="pigeon"):
        notifications.notify(person, "s", "b", channels=("pigeon",))


def test_a_rolled_back_use_case_sends_nothing(person: User, smtp_server: list[Any]) -> None:
    with pytest.raises(RuntimeError):
        with write_transaction():
            notifications.notify(db.session.merge(person), "Approved", "Your permit is approved.")
            raise RuntimeError("the use case failed after notifying")
    assert rows() == []
    assert notifications.deliver_due() == 0
    assert smtp_server == []


def test_email_travels_through_a_real_smtp_server(person: User, smtp_server: list[Any], clock: ManualClock) -> None:
    queue(person, link="/applications/KITAS-1", channels=("email", "in_app"))
    assert notifications.deliver_due() == 1
    [message] = smtp_server
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == "Correction requested"
    assert "no-reply@kitas.invalid" in message["From"]
    assert message["Message-ID"] and message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert "Please fix your form." in body and "http://kitas.test/applications/KITAS-1" in body
    email_row = next(row for row in rows() if row.channel == "email")
    assert (email_row.sent_at, email_row.attempts, email_row.last_error) == (clock.now(), 1, None)
    assert notifications.deliver_due() == 0  # sent once only
    # The Message-ID names the outbox row, so a send repeated after a crash is the same message.
    assert message["Message-ID"] == f"<kitas-notification-{email_row.id}@kitas.invalid>"


def test_a_send_repeated_after_a_lost_lease_keeps_its_message_id(
    person: User, smtp_server: list[Any], clock: ManualClock
) -> None:
    queue(person, channels=("email",))
    [row] = rows()
    assert leases.claim(notifications.OUTBOX, "crashed-scheduler")  # it sent nothing, then died
    clock.advance(minutes=6)  # its lease ran out
    assert notifications.deliver_due() == 1
    db.session.execute(update(Notification).values(sent_at=None, next_attempt_at=clock.now()))
    db.session.commit()  # as if the first scheduler had sent it after all, without recording it
    assert notifications.deliver_due() == 1
    first, second = smtp_server
    assert first["Message-ID"] == second["Message-ID"] == f"<kitas-notification-{row.id}@kitas.invalid>"


def test_the_scheduler_job_delivers_the_outbox(ctx: Flask, person: User, smtp_server: list[Any]) -> None:
    queue(person, channels=("email",))
    [(job_id, target)] = [job for job in OUTBOX_JOBS if job[0] == "deliver_notifications"]
    assert outbox_pass(ctx, target) == 1
    assert len(smtp_server) == 1


def test_a_failed_send_is_retried_with_growing_delays(person: User, clock: ManualClock) -> None:
    queue(person, channels=("email",))
    mailer = FailingMailer(failures=2)
    start = clock.now()
    assert notifications.deliver_due(mailer=mailer) == 1
    [row] = rows()
    assert (row.attempts, row.sent_at, row.next_attempt_at) == (1, None, start + timedelta(minutes=1))
    assert row.last_error == "ConnectionRefusedError: mail server unreachable"
    assert notifications.deliver_due(mailer=mailer) == 0  # not due yet
    clock.advance(minutes=1)
    assert notifications.deliver_due(mailer=mailer) == 1
    [row] = rows()
    assert (row.attempts, row.next_attempt_at) == (2, clock.now() + timedelta(minutes=2))
    clock.advance(minutes=2)
    assert notifications.deliver_due(mailer=mailer) == 1
    [row] = rows()
    assert (row.attempts, row.sent_at, row.last_error) == (3, clock.now(), None)
    assert [mail.to for mail in mailer.sent] == ["ana@example.org"]


def test_the_outbox_gives_up_after_the_last_attempt(person: User, clock: ManualClock) -> None:
    queue(person, channels=("email",))
    for _ in range(POLICY.max_attempts):
        assert notifications.deliver_due(mailer=FailingMailer()) == 1
        clock.advance(hours=7)
    [row] = rows()
    assert row.attempts == POLICY.max_attempts and row.next_attempt_at is None and row.sent_at is None
    assert row.gave_up_at == clock.now() - timedelta(hours=7)  # at the last attempt
    assert "unreachable" in (row.last_error or "")
    assert notifications.deliver_due(mailer=FailingMailer()) == 0


def test_retry_delays_double_up_to_six_hours() -> None:
    assert [POLICY.delay(n).total_seconds() / 60 for n in range(1, 6)] == [1, 2, 4, 8, 16]
    assert POLICY.delay(30) == timedelta(hours=6)
    assert notifications.OUTBOX.kind.policy is POLICY


def test_an_unreachable_smtp_server_is_recorded(person: User, app: Flask) -> None:
    app.config.update(KITAS_SMTP_HOST="127.0.0.1", KITAS_SMTP_PORT=free_port())
    try:
        queue(person, channels=("email",))
        assert notifications.deliver_due() == 1
    finally:
        app.config.update(KITAS_SMTP_HOST=None, KITAS_SMTP_PORT=25)
    [row] = rows()
    assert row.sent_at is None and row.attempts == 1 and "Connection" in (row.last_error or "")


def test_a_claimed_row_is_not_taken_by_a_second_scheduler(person: User, clock: ManualClock) -> None:
    queue(person, channels=("email",))
    claimed = leases.claim(notifications.OUTBOX, "first", 10)  # the first scheduler holds it (and then dies)
    assert len(claimed) == 1
    assert notifications.deliver_due(mailer=FailingMailer(failures=0)) == 0
    clock.advance(minutes=5, seconds=1)  # the lease ran out: someone else sends it
    assert notifications.deliver_due(mailer=FailingMailer(failures=0)) == 1


def test_sms_goes_through_the_sms_adapter_with_an_absolute_link(person: User) -> None:
    queue(person, link="/applications/KITAS-1", channels=("sms",))
    sms = RecordingSms()
    assert notifications.deliver_due(mailer=FailingMailer(), sms=sms) == 1
    assert sms.sent == [("+6281234567890", "KITAS Online: Correction requested http://kitas.test/applications/KITAS-1")]
    assert rows()[0].sent_at is not None


def test_without_smtp_the_message_is_logged(person: User, caplog: pytest.LogCaptureFixture) -> None:
    queue(person, link="/applications/KITAS-1", channels=("email", "sms"))
    with caplog.at_level(logging.WARNING):
        assert notifications.deliver_due() == 2
    assert "http://kitas.test/applications/KITAS-1" in caplog.text
    assert "NOT sent" in caplog.text and "sandbox SMS" in caplog.text
    assert all(row.sent_at is not None for row in rows())


def test_adapters_are_chosen_by_configuration() -> None:
    base = {"KITAS_MAIL_FROM": "KITAS <no-reply@kitas.invalid>"}
    assert isinstance(mailer_from_config(base | {"KITAS_SMTP_HOST": None}), LogMailer)
    smtp = mailer_from_config(base | {"KITAS_SMTP_HOST": "mail.example", "KITAS_SMTP_PORT": 587})
    assert isinstance(smtp, SmtpMailer) and (smtp.host, smtp.port) == ("mail.example", 587)
    assert isinstance(sms_sender_from_config({"KITAS_SMS_PROVIDER": "sandbox"}), SandboxSms)
    with pytest.raises(ValueError, match="unknown SMS provider"):
        sms_sender_from_config({"KITAS_SMS_PROVIDER": "carrier-pigeon"})


def test_smtp_login_is_used_when_configured(ctx: Flask) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    received: list[bytes] = []
    logins: list[tuple[bytes, bytes]] = []

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content)
            return "250 OK"

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port, authenticator=check, auth_require_tls=False)
    controller.start()
    try:
        SmtpMailer("127.0.0.1", port, "KITAS <no-reply@kitas.invalid>", user="kitas", password="s3cret").send(
            OutgoingMail(to="ana@example.org", subject="Hello", text="Body")
        )
    finally:
        controller.stop()
    assert logins == [(b"kitas", b"s3cret")]
    assert len(received) == 1


def test_recent_messages_and_marking_them_read(person: User, clock: ManualClock) -> None:
    queue(person, channels=("in_app", "email"))
    clock.advance(minutes=1)
    with write_transaction():
        notifications.notify(db.session.merge(person), "Approved", "Your permit is approved.", channels=("in_app",))
    recent = notifications.recent_for(person, limit=10)
    assert [(n.subject, n.read_at) for n in recent] == [("Approved", None), ("Correction requested", None)]
    assert len(notifications.recent_for(person, limit=1)) == 1
    assert notifications.mark_all_read(person) == 2
    assert all(n.read_at == clock.now() for n in notifications.recent_for(person))
    assert len(notifications.recent_for(person)) == 2
    assert notifications.mark_all_read(person) == 0
