"""Every e-mail and SMS in its recipient's language, written when it is sent; officers and people
without a setting read Indonesian."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from forms.texts import Message
from kitas.extensions import db
from kitas.models import Notification, User
from kitas.services import accounts, cases, notifications
from kitas.services.cases import notices
from kitas.transactions import write_transaction
from tests.factories import make_user
from tests.services.helpers import complete, request_corrections, start_until_verification
from workflows import StatusText

ADDRESS = "203.0.113.7"
PASSWORD = "tropical mango lantern 42"


class RecordingSms:
    """The test SMS provider: keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))


def _person(email: str, language: str | None, **extra: Any) -> User:
    user = make_user("applicant", email=email, name="Siti Rahma", password=PASSWORD, language=language)
    for key, value in extra.items():
        setattr(user, key, value)
    db.session.commit()
    return user


def _deliver(**adapters: Any) -> int:
    db.session.rollback()
    return notifications.deliver_due(**adapters)


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("id", "Konfirmasi alamat e-mail Anda untuk KITAS Online", ["Yth. Siti Rahma,", "Mohon konfirmasi bahwa"]),
        ("en", "Confirm your e-mail address for KITAS Online", ["Hello Siti Rahma,", "please confirm that"]),
        # No setting: Indonesian, the default.
        (None, "Konfirmasi alamat e-mail Anda untuk KITAS Online", ["Yth. Siti Rahma,"]),
    ],
)
def test_the_verification_email_is_in_the_recipients_language(
    ctx: Flask, smtp_server: list[Any], language: str | None, subject: str, words: list[str]
) -> None:
    _person("siti@example.org", language)
    accounts.resend_verification("siti@example.org", ADDRESS)
    assert _deliver() == 1
    [message] = smtp_server
    assert message["Subject"] == subject
    body = message.get_content()
    assert all(word in body for word in words), body
    assert "http://kitas.test/auth/verify/" in body


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("id", "Atur ulang kata sandi KITAS Online Anda", ["dalam waktu 60 menit", "abaikan e-mail ini"]),
        ("en", "Reset your KITAS Online password", ["within 60 minutes", "ignore this e-mail"]),
    ],
)
def test_the_reset_email_is_in_the_recipients_language(
    ctx: Flask, smtp_server: list[Any], language: str, subject: str, words: list[str]
) -> None:
    _person("siti@example.org", language, email_verified_at=None)
    accounts.request_password_reset("siti@example.org", ADDRESS)
    assert _deliver() == 1
    [message] = smtp_server
    assert message["Subject"] == subject
    body = message.get_content()
    assert all(word in body for word in words), body


def test_the_language_is_read_when_the_mail_is_sent_not_when_it_is_asked_for(
    ctx: Flask, smtp_server: list[Any]
) -> None:
    user = _person("siti@example.org", "en")
    accounts.request_password_reset("siti@example.org", ADDRESS)
    user.language = "id"  # changed before the scheduler came round
    db.session.commit()
    assert _deliver() == 1
    assert smtp_server[0]["Subject"] == "Atur ulang kata sandi KITAS Online Anda"


def test_registration_stores_the_language_it_was_made_in(ctx: Flask) -> None:
    fields = {
        "full_name": "Siti Rahma",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "phone": "+62 812 3456 7890",
        "nationality": "ID",
        "kind": "applicant",
        "consent": True,
        "address": ADDRESS,
    }
    made = accounts.register(email="siti@example.org", language="id", **fields)
    plain = accounts.register(email="budi@example.org", **fields)
    odd = accounts.register(email="odd@example.org", language="fr", **fields)
    assert made is not None and plain is not None and odd is not None
    assert (made.language, plain.language, odd.language) == ("id", None, None)


def test_the_password_changed_email_is_written_when_sent(ctx: Flask, smtp_server: list[Any]) -> None:
    _person("siti@example.org", "id")
    accounts.request_password_reset("siti@example.org", ADDRESS)
    assert _deliver() == 1
    token = smtp_server[0].get_content().split("/auth/reset/")[1].split()[0]
    accounts.reset_password(token, "quiet harbour at dawn", "quiet harbour at dawn", ADDRESS)
    db.session.rollback()
    email = db.session.scalars(
        select(Notification).where(Notification.channel == "email").order_by(Notification.id.desc())
    ).first()
    assert email is not None and email.template == notifications.MESSAGE
    assert email.subject == "Your KITAS Online password was changed"  # English in the table, for logs
    assert "Siti" not in email.body  # what is kept is the template and its parameters, not the words
    assert _deliver() == 1
    changed = smtp_server[1]
    assert changed["Subject"] == "Kata sandi KITAS Online Anda telah diubah"
    assert "Yth. Siti Rahma," in changed.get_content() and "kantor imigrasi" in changed.get_content()


def test_a_message_by_sms_is_in_the_recipients_language(ctx: Flask) -> None:
    user = _person("siti@example.org", "id", phone="+6281234567890")
    with write_transaction():
        notifications.notify(
            db.session.merge(user),
            Message("Your KITAS Online password was changed"),
            Message("Your KITAS Online password was changed"),
            link="/auth/notifications",
            channels=("sms",),
        )
    sms = RecordingSms()
    assert _deliver(sms=sms) == 1
    assert sms.sent == [
        (
            "+6281234567890",
            "KITAS Online: Kata sandi KITAS Online Anda telah diubah http://kitas.test/auth/notifications",
        )
    ]


def test_officers_without_a_setting_read_indonesian(ctx: Flask, smtp_server: list[Any]) -> None:
    officer = make_user("verifier", email="vera@imigrasi.example", name="Vera", language=None)
    with write_transaction():
        notifications.notify(
            db.session.merge(officer),
            Message("Your KITAS Online password was changed"),
            notifications.MailTemplate("email/password_changed.txt"),
            channels=("email",),
        )
    assert _deliver() == 1
    assert smtp_server[0]["Subject"] == "Kata sandi KITAS Online Anda telah diubah"


# --- case notifications -------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
def test_case_notifications_are_in_each_readers_language(users: dict[str, Any], smtp_server: list[Any]) -> None:
    users["applicant"].language = "id"  # the sponsor reads English
    db.session.commit()
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    db.session.rollback()
    rows = list(db.session.scalars(select(Notification).where(Notification.channel == "email")))
    assert {row.template for row in rows} == {notices.STATUS_CHANGED, notices.SPONSOR_ASKED}
    assert json.loads(next(r.body for r in rows if r.template == notices.STATUS_CHANGED)) == {
        "reference": application.reference,
        "status": "awaiting_sponsor",
    }
    assert _deliver() == 2
    mails = {message["To"]: message for message in smtp_server}
    applicant = mails["ana@example.org"]
    assert applicant["Subject"].startswith(f"{application.reference}: ")
    assert f"Status permohonan Anda {application.reference} kini:" in applicant.get_content()
    sponsor = mails["hr@employer.co.id"]
    assert sponsor["Subject"] == f"{application.reference}: please confirm your guarantee"
    assert "Ana Applicant named you as sponsor" in sponsor.get_content()


@pytest.mark.usefixtures("worker")
def test_case_texts_ask_the_catalog_in_the_readers_language(
    users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog's words are looked up in the reader's language when the SMS is sent (English until
    the catalog has Indonesian texts; here a stand-in catalog answers in Indonesian)."""
    asked: list[str] = []
    english = notices.status_text_in

    def in_language(status: str, language: str) -> StatusText:
        asked.append(language)
        text = english(status, language)
        return StatusText("Perbaikan diminta", "Mohon perbaiki.", sms=text.sms) if language == "id" else text

    users["applicant"].phone = "+6281234567890"
    users["applicant"].language = "id"
    db.session.commit()
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "Passport scan unreadable.")
    monkeypatch.setattr(notices, "status_text_in", in_language)
    sms = RecordingSms()
    _deliver(sms=sms)
    reference = application.reference
    assert (
        "+6281234567890",
        f"KITAS Online: {reference}: Perbaikan diminta http://kitas.test/applications/{reference}",
    ) in sms.sent
    assert "id" in asked
