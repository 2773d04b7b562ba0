"""The profile service: details and settings, a new e-mail address confirmed at that address, a new
password with the current one, and the outbox following the notification channels."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import g
from sqlalchemy import select

from engine import ManualClock
from kitas.adapters.mail import OutgoingMail
from kitas.extensions import db
from kitas.models import AuditEvent, Notification, User
from kitas.services import accounts, cases, notifications
from kitas.services.accounts import passwords
from kitas.services.accounts import profile as profiles
from kitas.services.errors import InvalidInput
from kitas.transactions import write_transaction
from tests.factories import make_user

PASSWORD = "tropical mango lantern 42"
NEW_PASSWORD = "quiet harbour violin 77"
ADDRESS = "203.0.113.9"


class _SentMails(list[OutgoingMail]):
    def send(self, mail: OutgoingMail) -> None:
        self.append(mail)


def outbox() -> list[OutgoingMail]:
    """Deliver the due outbox; every e-mail sent so far in this test."""
    db.session.rollback()
    sent = g.setdefault("profile_mails", _SentMails())
    notifications.deliver_due(mailer=sent)
    return list(sent)


def email_token(mail: OutgoingMail) -> str:
    [token] = re.findall(r"http://kitas\.test/auth/profile/email/(\S+)", mail.text)
    return str(token)


def fresh(user_id: int) -> User:
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def audited(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture()
def person(ctx: Any) -> User:
    return make_user("applicant", email="maria@example.org", name="Maria Silva", password=PASSWORD, confirmed=True)


def changes(**overrides: Any) -> profiles.ProfileChanges:
    values: dict[str, Any] = {
        "full_name": "Maria Silva",
        "phone": "",
        "language": "en",
        "time_zone": "Asia/Jakarta",
        "notify_email": True,
        "notify_sms": False,
    }
    values.update(overrides)
    return profiles.ProfileChanges(**values)


# --- details and settings ---------------------------------------------------------------------------


def test_details_are_saved_phone_in_e164_and_audited_without_values(person: User) -> None:
    changed = profiles.update_profile(
        person.id,
        changes(
            full_name="  Maria   da Silva ",
            phone="+62 812-3456-7890",
            language="id",
            time_zone="Asia/Makassar",
            notify_sms=True,
        ),
        ADDRESS,
    )
    assert set(changed) == {"full_name", "phone", "language", "time_zone"}  # SMS was on already
    user = fresh(person.id)
    assert (user.full_name, user.phone, user.language, user.time_zone) == (
        "Maria da Silva",
        "+6281234567890",
        "id",
        "Asia/Makassar",
    )
    assert (user.notify_email, user.notify_sms) == (True, True)
    [row] = audited("profile_changed")
    assert sorted(row.detail["fields"]) == sorted(changed) and "+6281234567890" not in str(row.detail)
    assert profiles.update_profile(person.id, changes(**_as_saved(user)), ADDRESS) == []  # nothing new: no row
    assert len(audited("profile_changed")) == 1


def _as_saved(user: User) -> dict[str, Any]:
    return {
        "full_name": user.full_name,
        "phone": user.phone or "",
        "language": user.language,
        "time_zone": user.time_zone,
        "notify_email": user.notify_email,
        "notify_sms": user.notify_sms,
    }


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"phone": "0812 3456 7890"}, "phone", "Start with +"),
        ({"phone": "+62 0812 3456 7890"}, "phone", "Leave out the 0"),
        ({"phone": "+62 812"}, "phone", "too few digits"),
        ({"notify_sms": True}, "phone", "Enter a phone number to receive text messages"),
        ({"full_name": "   "}, "full_name", "Enter your full name"),
        ({"language": "fr"}, "language", "Bahasa Indonesia or English"),
        ({"time_zone": "Europe/Paris"}, "time_zone", "WIB, WITA or WIT"),
    ],
)
def test_a_bad_detail_is_refused_next_to_its_field_and_nothing_changes(
    person: User, overrides: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        profiles.update_profile(person.id, changes(**{"full_name": "Someone Else", **overrides}), ADDRESS)
    assert words in refused.value.errors[field][0]
    assert fresh(person.id).full_name == "Maria Silva" and audited("profile_changed") == []


def test_the_outbox_follows_the_channels_for_case_news_only(person: User, worker: int) -> None:
    profiles.update_profile(person.id, changes(phone="+6281234567890", notify_email=False, notify_sms=False), ADDRESS)
    case = cases.start_case("worker", fresh(person.id))
    with write_transaction():
        user = db.session.get(User, person.id)
        assert user is not None
        count = notifications.notify(user, "news", "text", application_id=case.id, channels=("in_app", "email", "sms"))
        security = notifications.notify(user, "security", "text", channels=("email",))
    assert (count, security) == (1, 1)
    rows = db.session.scalars(select(Notification).where(Notification.user_id == person.id)).all()
    assert {(row.subject, row.channel) for row in rows} >= {("news", "in_app"), ("security", "email")}
    assert not [row for row in rows if row.subject == "news" and row.channel != "in_app"]


# --- a new e-mail address ---------------------------------------------------------------------------


def test_a_new_address_counts_only_once_its_link_is_opened_and_the_old_address_is_told(person: User) -> None:
    assert profiles.request_email_change(person.id, " Maria.New@Example.ORG ", PASSWORD, ADDRESS) == (
        "maria.new@example.org"
    )
    assert fresh(person.id).email == "maria@example.org" and fresh(person.id).pending_email == "maria.new@example.org"
    [mail] = outbox()
    # Written when it is sent, in the account's language (English here).
    assert mail.to == "maria.new@example.org" and " 24 " in mail.text
    user = profiles.confirm_email_change(email_token(mail), ADDRESS)
    assert user.email == "maria.new@example.org" and user.pending_email is None
    told = [m for m in outbox() if m.to == "maria@example.org"]
    assert len(told) == 1 and "maria.new@example.org" in told[0].text
    assert [row.action for row in audited("email_changed")] == ["email_changed"]
    # One-time: the same link again is refused.
    with pytest.raises(accounts.TokenInvalid) as used:
        profiles.confirm_email_change(email_token(mail), ADDRESS)
    assert "already used" in str(used.value) and not used.value.expired


def test_the_account_e_mails_of_the_profile_are_written_in_the_reader_s_language(ctx: Any) -> None:
    """Written when they are sent, in the account's language: not in English, not in the page's language."""
    budi = make_user("applicant", email="budi@example.org", name="Budi", password=PASSWORD, language="id")
    profiles.request_email_change(budi.id, "budi.baru@example.org", PASSWORD, ADDRESS)
    [confirm] = outbox()
    assert confirm.subject == "Konfirmasikan alamat e-mail baru Anda untuk KITAS Online", confirm.subject
    assert confirm.text.startswith("Yth. Budi,"), confirm.text
    profiles.confirm_email_change(email_token(confirm), ADDRESS)
    [told] = [mail for mail in outbox() if mail.to == "budi@example.org"]
    assert told.subject == "Alamat e-mail akun KITAS Online Anda telah diubah", told.subject
    assert told.text.startswith("Yth. Budi,") and "budi.baru@example.org" in told.text, told.text
    profiles.change_password(budi.id, PASSWORD, NEW_PASSWORD, NEW_PASSWORD, ADDRESS)
    [changed] = [mail for mail in outbox() if "sandi" in mail.subject]
    assert changed.to == "budi.baru@example.org" and changed.text.startswith("Yth. Budi,"), changed.text


def test_an_expired_or_replaced_or_cancelled_link_is_refused(person: User, clock: ManualClock) -> None:
    profiles.request_email_change(person.id, "first@example.org", PASSWORD, ADDRESS)
    [first] = outbox()
    clock.advance(hours=25)
    with pytest.raises(accounts.TokenInvalid) as expired:
        profiles.confirm_email_change(email_token(first), ADDRESS)
    assert expired.value.expired and "24 hours" in str(expired.value)
    profiles.request_email_change(person.id, "second@example.org", PASSWORD, ADDRESS)
    profiles.request_email_change(person.id, "third@example.org", PASSWORD, ADDRESS)
    mails = {mail.to: mail for mail in outbox()}
    assert "second@example.org" not in mails  # replaced before it was sent: nothing to send
    profiles.cancel_email_change(person.id)
    with pytest.raises(accounts.TokenInvalid):
        profiles.confirm_email_change(email_token(mails["third@example.org"]), ADDRESS)
    with pytest.raises(accounts.TokenInvalid) as forged:
        profiles.confirm_email_change("not-a-token", ADDRESS)
    assert "damaged" in str(forged.value)
    assert fresh(person.id).email == "maria@example.org"


@pytest.mark.parametrize(
    ("email", "password", "field", "words"),
    [
        ("otto@example.org", PASSWORD, "email", "Another account uses otto@example.org"),
        ("maria@example.org", PASSWORD, "email", "already your e-mail address"),
        ("maria@", PASSWORD, "email", "not a valid domain"),
        ("new@example.org", "wrong password", "current_password", "not your current password"),
    ],
)
def test_a_taken_or_bad_address_or_a_wrong_password_is_refused(
    person: User, email: str, password: str, field: str, words: str
) -> None:
    make_user("applicant", email="otto@example.org", name="Otto Other")
    with pytest.raises(InvalidInput) as refused:
        profiles.request_email_change(person.id, email, password, ADDRESS)
    assert words in refused.value.errors[field][0]
    assert fresh(person.id).pending_email is None and outbox() == []


def test_an_address_taken_before_the_link_is_opened_is_refused(person: User) -> None:
    profiles.request_email_change(person.id, "wanted@example.org", PASSWORD, ADDRESS)
    [mail] = outbox()
    make_user("applicant", email="wanted@example.org", name="Quick Person")
    with pytest.raises(accounts.TokenInvalid) as taken:
        profiles.confirm_email_change(email_token(mail), ADDRESS)
    assert "Another account uses this address" in str(taken.value)
    assert fresh(person.id).email == "maria@example.org"


# --- a new password -------------------------------------------------------------------------------


def test_a_new_password_needs_the_current_one_and_ends_the_other_sessions(person: User) -> None:
    token = fresh(person.id).session_token
    user = profiles.change_password(person.id, PASSWORD, NEW_PASSWORD, NEW_PASSWORD, ADDRESS)
    assert user.session_token != token
    assert accounts.user_for_session(f"{person.id}:{token}") is None
    stored = fresh(person.id)
    assert passwords.verify_password(stored.password_hash, NEW_PASSWORD)
    assert not passwords.verify_password(stored.password_hash, PASSWORD)
    assert [row.detail for row in audited("password_changed")] == [{"address": ADDRESS}]
    [mail] = outbox()
    assert mail.to == "maria@example.org" and mail.subject == "Your KITAS Online password was changed"


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "words"),
    [
        ("wrong password", NEW_PASSWORD, NEW_PASSWORD, "current_password", "not your current password"),
        (PASSWORD, "short", "short", "password", "at least 8 characters"),
        (PASSWORD, "password123", "password123", "password", "most commonly used"),
        (PASSWORD, "maria silva forever", "maria silva forever", "password", "your name or e-mail"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "password_confirm", "not the same"),
        (PASSWORD, PASSWORD, PASSWORD, "password", "your current password"),
    ],
)
def test_a_wrong_current_or_weak_new_password_is_refused(
    person: User, current: str, new: str, confirm: str, field: str, words: str
) -> None:
    token = fresh(person.id).session_token
    with pytest.raises(InvalidInput) as refused:
        profiles.change_password(person.id, current, new, confirm, ADDRESS)
    assert words in refused.value.errors[field][0]
    stored = fresh(person.id)
    assert stored.session_token == token and passwords.verify_password(stored.password_hash, PASSWORD)


def test_the_change_links_expire_after_a_day(person: User, clock: ManualClock) -> None:
    profiles.request_email_change(person.id, "later@example.org", PASSWORD, ADDRESS)
    [mail] = outbox()
    clock.advance(hours=23, minutes=59)
    assert profiles.confirm_email_change(email_token(mail), ADDRESS).email == "later@example.org"
    assert timedelta(hours=24) == accounts.tokens.EMAIL_CHANGE_MAX_AGE
