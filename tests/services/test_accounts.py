"""The accounts service: registration rules, passwords, sign-in limits in the database, links that expire."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask, g
from sqlalchemy import select

from engine import ManualClock
from kitas.adapters.mail import OutgoingMail
from kitas.extensions import db
from kitas.models import AuditEvent, LoginAttempt, Notification, User
from kitas.services import accounts, audit, notifications
from kitas.services.accounts import login_limits, passwords
from kitas.services.accounts import tokens as account_tokens
from kitas.services.accounts.fields import email_problem, normalize_email, normalize_phone, phone_problem
from kitas.services.errors import InvalidInput
from tests.factories import make_user

GOOD_PASSWORD = "tropical mango lantern 42"
ADDRESS = "203.0.113.7"


def registration(**overrides: Any) -> dict[str, Any]:
    """Valid registration input, with ``overrides``."""
    fields: dict[str, Any] = {
        "email": "Maria.Silva@Example.org",
        "full_name": "  Maria   Silva ",
        "password": GOOD_PASSWORD,
        "password_confirm": GOOD_PASSWORD,
        "phone": "+62 812-3456-7890",
        "nationality": "br",
        "kind": "applicant",
        "consent": True,
        "address": ADDRESS,
        "language": "en",  # as the test client's browser asks (tests/conftest.py)
    }
    fields.update(overrides)
    return fields


def actions() -> list[str]:
    """Every audit action written so far, in order."""
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


class _SentMails(list[OutgoingMail]):
    """A mailer that keeps what it is given (the outbox job writes account e-mails as it sends them)."""

    def send(self, mail: OutgoingMail) -> None:
        self.append(mail)


def outbox(subject: str | None = None) -> list[OutgoingMail]:
    """Deliver the due outbox, then every e-mail the test sent so far, optionally only those with ``subject``."""
    db.session.rollback()
    sent = g.setdefault("sent_mails", _SentMails())
    notifications.deliver_due(mailer=sent)
    return [mail for mail in sent if subject is None or mail.subject == subject]


def token_from(mail: OutgoingMail, prefix: str) -> str:
    """The token of the (one) link starting with ``prefix`` in a sent e-mail."""
    [token] = re.findall(rf"http://kitas\.test{re.escape(prefix)}(\S+)", mail.text)
    return str(token)


def queued_rows() -> list[Notification]:
    """The outbox rows, sent or not."""
    db.session.rollback()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


# --- registration ---------------------------------------------------------------------------------


def test_register_stores_a_normalized_account_with_consent_time(ctx: Flask, clock: ManualClock) -> None:
    user = accounts.register(**registration())
    db.session.rollback()
    stored = db.session.get(User, user.id)
    assert stored is not None
    assert stored.email == "maria.silva@example.org"
    assert stored.full_name == "Maria Silva"
    assert stored.phone == "+6281234567890"
    assert stored.nationality == "BR"
    assert stored.role_names == {"applicant"}
    assert stored.consent_at == clock.now().replace(microsecond=0) or stored.consent_at == clock.now()
    assert stored.email_verified_at is None and not accounts.is_verified(stored)
    assert stored.password_hash is not None and stored.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored.password_hash
    assert actions() == ["register"]
    [mail] = outbox(accounts.VERIFY_SUBJECT)
    assert mail.to == "maria.silva@example.org"
    assert "http://kitas.test/auth/verify/" in mail.text
    assert actions() == ["register", "email_verification_sent"]


def test_a_sponsor_can_register_but_no_officer_role(ctx: Flask) -> None:
    sponsor = accounts.register(**registration(kind="sponsor"))
    assert sponsor.role_names == {"sponsor"}
    for role in ("verifier", "supervisor", "analyst", "admin", ""):
        with pytest.raises(InvalidInput) as refused:
            accounts.register(**registration(email=f"{role or 'none'}@example.org", kind=role))
        assert "kind" in refused.value.errors


BAD_INPUT = [
    ({"full_name": "   "}, "full_name", "full name"),
    ({"full_name": "12345"}, "full_name", "needs letters"),
    ({"full_name": "Ana\x07Bell"}, "full_name", "control characters"),
    ({"full_name": "A" * 201}, "full_name", "at most 200"),
    ({"email": ""}, "email", "Enter your e-mail"),
    ({"email": "maria.example.org"}, "email", "@"),
    ({"email": "maria@localhost"}, "email", "domain"),
    ({"email": "ma ria@example.org"}, "email", "before the @"),
    ({"email": "maria@exa_mple.org"}, "email", "domain"),
    ({"phone": ""}, "phone", "country code"),
    ({"phone": "0812 3456 7890"}, "phone", "Start with +"),
    ({"phone": "+62 0812 3456 7890"}, "phone", "Leave out the 0"),
    ({"phone": "+999 1234 5678"}, "phone", "not a country calling code"),
    ({"phone": "+62 812"}, "phone", "digits"),
    ({"phone": "+44 20 7946 0958 1234 56"}, "phone", "8 to 15"),
    ({"phone": "+62 812 abc 7890"}, "phone", "only digits"),
    ({"nationality": ""}, "nationality", "nationality"),
    ({"nationality": "XX"}, "nationality", "from the list"),
    ({"password": "", "password_confirm": ""}, "password", "Choose a password"),
    ({"password": "short1!", "password_confirm": "short1!"}, "password", "at least 8"),
    ({"password": "x" * 120 + "abcdefghi", "password_confirm": "x" * 120 + "abcdefghi"}, "password", "at most 128"),
    ({"password": "password123", "password_confirm": "password123"}, "password", "most commonly used"),
    ({"password": "Sunshine2024!", "password_confirm": "Sunshine2024!"}, "password", "most commonly used"),
    ({"password": "bismillah", "password_confirm": "bismillah"}, "password", "most commonly used"),
    ({"password": "zzzzzzzzzzzz", "password_confirm": "zzzzzzzzzzzz"}, "password", "most commonly used"),
    ({"password": "maria.silva", "password_confirm": "maria.silva"}, "password", "name or e-mail"),
    ({"password": "i-am-silva-forever", "password_confirm": "i-am-silva-forever"}, "password", "name or e-mail"),
    ({"password_confirm": "something else entirely"}, "password_confirm", "not the same"),
    ({"consent": False}, "consent", "Tick the box"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "words"), BAD_INPUT, ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD_INPUT)]
)
def test_register_refuses_each_bad_input_on_its_field(
    ctx: Flask, overrides: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.register(**registration(**overrides))
    errors = refused.value.errors
    assert field in errors, errors
    assert any(words in message for message in errors[field]), errors[field]
    assert db.session.scalar(select(User.id)) is None
    assert outbox() == []


def test_register_reports_every_problem_at_once(ctx: Flask) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.register(
            **registration(email="x", full_name="", phone="12", nationality="", password="abc", consent=False)
        )
    expected = {"email", "full_name", "phone", "nationality", "password", "password_confirm", "consent"}
    assert set(refused.value.errors) == expected


def test_registering_an_existing_address_creates_nothing_and_mails_its_owner(ctx: Flask) -> None:
    first = accounts.register(**registration())
    assert first is not None
    again = accounts.register(**registration(email="MARIA.SILVA@example.org ", full_name="Someone Else"))
    assert again is None  # no error to show: the page answers as for a new address
    db.session.rollback()
    [stored] = db.session.scalars(select(User)).all()
    assert stored.full_name == "Maria Silva" and stored.id == first.id
    [owner_mail] = outbox(accounts.REGISTERED_AGAIN_SUBJECT)
    assert owner_mail.to == "maria.silva@example.org"
    assert "http://kitas.test/auth/login" in owner_mail.text and "http://kitas.test/auth/forgot" in owner_mail.text
    assert "registration_with_existing_address" in actions()


def test_registering_an_existing_address_does_the_same_slow_work(ctx: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both answers cost one password hash and queue one e-mail row (no timing: the work itself)."""
    hashed: list[str] = []
    real_hash = passwords.hash_password
    monkeypatch.setattr(passwords, "hash_password", lambda p: hashed.append(p) or real_hash(p))
    accounts.register(**registration())
    rows_after_new = len(queued_rows())
    accounts.register(**registration(full_name="Someone Else"))
    assert len(hashed) == 2
    assert rows_after_new == 1 and len(queued_rows()) == 2


def test_create_account_for_demo_and_staff(ctx: Flask) -> None:
    officer = accounts.create_account(
        "Vera@Imigrasi.Example", "Vera Verifier", GOOD_PASSWORD, ["verifier", "supervisor"], verified=True
    )
    assert officer.role_names == {"verifier", "supervisor"}
    assert accounts.is_verified(officer) and officer.consent_at is not None
    assert officer.email == "vera@imigrasi.example"
    assert outbox() == []  # verified accounts get no confirmation e-mail
    assert queued_rows() == []
    unverified = accounts.create_account(
        "new@example.org", "New Person", GOOD_PASSWORD, ["applicant"], consent=False, language="en"
    )
    assert unverified.consent_at is None
    assert len(outbox(accounts.VERIFY_SUBJECT)) == 1
    assert accounts.authenticate("vera@imigrasi.example", GOOD_PASSWORD, ADDRESS).id == officer.id


def test_create_account_applies_the_rules(ctx: Flask) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.create_account("bad", "", "qwerty123", ["wizard"], phone="0812", nationality="ZZ")
    assert set(refused.value.errors) == {"email", "full_name", "password", "roles", "phone", "nationality"}
    accounts.create_account("one@example.org", "One Person", GOOD_PASSWORD, ["applicant"])
    with pytest.raises(InvalidInput) as duplicate:
        accounts.create_account("ONE@example.org", "One Person", GOOD_PASSWORD, ["applicant"])
    assert "already exists" in duplicate.value.errors["email"][0]


def test_set_password_replaces_the_hash_and_ends_sessions(ctx: Flask) -> None:
    user = accounts.create_account("demo@example.org", "Demo Person", GOOD_PASSWORD, ["applicant"], verified=True)
    token = user.session_token
    with pytest.raises(InvalidInput):
        accounts.set_password(user, "12345678")
    accounts.set_password(user, "another fine evening")
    db.session.rollback()
    fresh = db.session.get(User, user.id)
    assert fresh is not None and fresh.session_token != token
    assert accounts.authenticate("demo@example.org", "another fine evening", ADDRESS).id == user.id


# --- phone numbers and countries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+62 812-3456-7890", "+6281234567890"),
        ("0062 (812) 3456.7890", "+6281234567890"),
        ("+49 30 123456", "+4930123456"),
        ("+1 (415) 555-0134", "+14155550134"),
        ("+670 7723 4567", "+67077234567"),
    ],
)
def test_phone_numbers_are_kept_in_e164(raw: str, stored: str) -> None:
    assert normalize_phone(raw) == stored
    assert phone_problem(stored) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("+62 0812 3456 7890", "Leave out the 0 after +62: write +62 812..., not +62 0812...."),
        ("+62 812", "This number has too few digits for +62. Check it."),
        ("+44 20 7946 09581", "This number has too many digits for +44. Check it."),
        ("+62 21 123456", "This is not a valid phone number for +62. Check the digits after +62."),
        ("+999 1234 5678", "+999 is not a country calling code. Check the digits after the +."),
    ],
)
def test_phone_problems_name_the_country_code(raw: str, message: str) -> None:
    assert phone_problem(normalize_phone(raw)) == message


def test_a_leading_digit_that_belongs_to_the_number_is_kept() -> None:
    # Russia's trunk prefix is 8, but St Petersburg's area code 812 starts with it; Italy keeps its 0.
    assert normalize_phone("+7 812 123 4567") == "+78121234567" and phone_problem("+78121234567") is None
    assert normalize_phone("+39 06 1234567") == "+39061234567" and phone_problem("+39061234567") is None


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("maria@example.test", "after the @"),
        ("maria@mail.c0m", "after the @"),
        ("ñandú@example.org", "before the @"),
        ("m" * 65 + "@example.org", "before the @"),
    ],
)
def test_email_problems_say_which_part_to_check(raw: str, words: str) -> None:
    problem = email_problem(normalize_email(raw))
    assert problem is not None and words in problem


def test_an_international_domain_is_stored_in_ascii(ctx: Flask) -> None:
    user = accounts.register(**registration(email="Maria@Bücher.de"))
    assert user.email == "maria@xn--bcher-kva.de"


def test_countries_come_from_iso_3166() -> None:
    assert ("ID", "Indonesia") in accounts_country_choices()
    assert ("TL", "Timor-Leste") in accounts_country_choices()


def accounts_country_choices() -> list[tuple[str, str]]:
    """The list the registration page offers."""
    from kitas.services.accounts.fields import country_choices

    return country_choices()


# --- passwords --------------------------------------------------------------------------------------


def test_password_policy_details() -> None:
    assert passwords.problems(GOOD_PASSWORD, email="a@example.org", full_name="Ana") == []
    assert passwords.problems("ñandú fiesta lunar", email="a@example.org") == []  # any characters
    assert passwords.problems("x" * 128) != []  # one repeated character
    assert passwords.problems("kq" * 64) == []  # exactly the maximum
    assert "at least 8" in passwords.problems("abc")[0]
    assert passwords.problems("Ana2024!!", full_name="Ana Bell") == [
        "Do not use your name or e-mail address in your password."
    ]
    assert passwords.problems("ab.cd-2024", email="ab.cd@example.org") != []
    assert len(passwords.common_passwords()) >= 300


def test_hashes_are_salted_and_verified_after_unicode_normalization() -> None:
    first, second = passwords.hash_password("caf\u00e9 au lait!"), passwords.hash_password("caf\u00e9 au lait!")
    assert first != second
    assert passwords.verify_password(first, "cafe\u0301 au lait!")  # the same text, composed differently
    assert not passwords.verify_password(first, "cafe au lait!")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not-a-hash", "anything at all")
    assert not passwords.needs_rehash(first)


# --- signing in ------------------------------------------------------------------------------------


def test_unknown_email_and_wrong_password_look_the_same(ctx: Flask) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    with pytest.raises(accounts.LoginRefused) as wrong:
        accounts.authenticate("ana@example.org", "not the password", ADDRESS)
    with pytest.raises(accounts.LoginRefused) as unknown:
        accounts.authenticate("nobody@example.org", "not the password", ADDRESS)
    assert str(wrong.value) == str(unknown.value) == accounts.GENERIC_LOGIN_ERROR
    user = accounts.authenticate("  ANA@example.org ", GOOD_PASSWORD, ADDRESS)
    assert user.email == "ana@example.org"
    db.session.rollback()
    rows = db.session.execute(select(LoginAttempt.account, LoginAttempt.succeeded).order_by(LoginAttempt.id)).all()
    assert [tuple(r) for r in rows] == [
        ("ana@example.org", False),
        ("nobody@example.org", False),
        ("ana@example.org", True),
    ]
    assert actions() == ["login_failed", "login_failed", "login_succeeded"]
    details = list(db.session.scalars(select(AuditEvent.detail).order_by(AuditEvent.id)))
    assert [d["reason"] for d in details[:2]] == ["wrong_password", "unknown_account"]
    assert all(d["address"] == ADDRESS for d in details)
    assert "not the password" not in str(details) and GOOD_PASSWORD not in str(details)


def test_a_closed_account_is_told_so_only_with_the_right_password(ctx: Flask) -> None:
    user = make_user("applicant", email="closed@example.org", password=GOOD_PASSWORD)
    user.is_active = False
    db.session.commit()
    with pytest.raises(accounts.LoginRefused):
        accounts.authenticate("closed@example.org", "wrong password here", ADDRESS)
    with pytest.raises(accounts.AccountDisabled):
        accounts.authenticate("closed@example.org", GOOD_PASSWORD, ADDRESS)


def test_an_old_hash_is_upgraded_at_sign_in(ctx: Flask) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD_PASSWORD)
    user = make_user("applicant", email="old@example.org")
    user.password_hash = weak
    db.session.commit()
    assert passwords.needs_rehash(weak)
    accounts.authenticate("old@example.org", GOOD_PASSWORD, ADDRESS)
    db.session.rollback()
    upgraded = db.session.get(User, user.id)
    assert upgraded is not None and upgraded.password_hash != weak
    assert not passwords.needs_rehash(upgraded.password_hash or "")
    assert passwords.verify_password(upgraded.password_hash, GOOD_PASSWORD)


def test_account_and_address_limit_refuses_that_address_but_not_the_owner_elsewhere(
    ctx: Flask, clock: ManualClock
) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    first = clock.now()
    for minute in range(5):  # KITAS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
        clock.set(first + timedelta(minutes=minute))
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", f"guess number {minute}", "198.51.100.1")
    with pytest.raises(accounts.LoginThrottled) as throttled:  # even the right password, from that address
        accounts.authenticate("ana@example.org", GOOD_PASSWORD, "198.51.100.1")
    assert throttled.value.retry_at == first + timedelta(minutes=15)
    assert actions()[-1] == "login_throttled"
    # The owner, from anywhere else, is not locked out by someone guessing.
    assert accounts.authenticate("ana@example.org", GOOD_PASSWORD, "192.0.2.99").email == "ana@example.org"
    clock.set(first + timedelta(minutes=15, seconds=1))
    assert accounts.authenticate("ana@example.org", GOOD_PASSWORD, "198.51.100.1").email == "ana@example.org"


def test_failures_spread_over_addresses_do_not_lock_the_account(ctx: Flask) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    for number in range(12):  # over the per-(account, address) limit in total, under it per address
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", "a wrong guess", f"198.51.100.{number}")
    assert accounts.authenticate("ana@example.org", GOOD_PASSWORD, "198.51.100.1").email == "ana@example.org"


def test_a_success_wipes_the_accounts_earlier_failures(ctx: Flask, clock: ManualClock) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    for _ in range(4):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", "a wrong guess", ADDRESS)
    clock.advance(seconds=1)
    accounts.authenticate("ana@example.org", GOOD_PASSWORD, ADDRESS)
    clock.advance(seconds=1)
    for _ in range(4):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", "a wrong guess", ADDRESS)
    clock.advance(seconds=1)
    accounts.authenticate("ana@example.org", GOOD_PASSWORD, ADDRESS)


def test_another_accounts_success_from_the_address_does_not_end_this_accounts_failures(
    ctx: Flask, clock: ManualClock
) -> None:
    """A guesser who also holds an account cannot sign in to it between guesses to get a fresh budget."""
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    make_user("applicant", email="mallory@example.org", password=GOOD_PASSWORD)
    for _ in range(4):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", "a wrong guess", "198.51.100.7")
    clock.advance(seconds=1)
    accounts.authenticate("mallory@example.org", GOOD_PASSWORD, "198.51.100.7")
    clock.advance(seconds=1)
    with pytest.raises(accounts.LoginRefused):  # the fifth failure of ana from that address
        accounts.authenticate("ana@example.org", "a wrong guess", "198.51.100.7")
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("ana@example.org", GOOD_PASSWORD, "198.51.100.7")


def test_the_owners_success_elsewhere_does_not_end_the_failures_at_an_address(ctx: Flask, clock: ManualClock) -> None:
    """The owner signing in at home does not give the guesser's address a fresh budget."""
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    for _ in range(4):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", "a wrong guess", "198.51.100.7")
    clock.advance(seconds=1)
    accounts.authenticate("ana@example.org", GOOD_PASSWORD, "192.0.2.10")
    clock.advance(seconds=1)
    with pytest.raises(accounts.LoginRefused):
        accounts.authenticate("ana@example.org", "a wrong guess", "198.51.100.7")
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("ana@example.org", GOOD_PASSWORD, "198.51.100.7")
    assert accounts.authenticate("ana@example.org", GOOD_PASSWORD, "192.0.2.10").email == "ana@example.org"


def test_only_the_owners_own_success_ends_the_run_toward_the_ceiling(
    ctx: Flask, app: Flask, clock: ManualClock
) -> None:
    """Another account's success, from any address, does not reset the distributed count of this one."""
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    make_user("applicant", email="mallory@example.org", password=GOOD_PASSWORD)
    app.config["KITAS_LOGIN_ACCOUNT_CEILING"] = 6
    try:
        for number in range(6):  # one guess from each address: under every per-address limit
            with pytest.raises(accounts.LoginRefused):
                accounts.authenticate("ana@example.org", "a wrong guess", f"198.51.100.{number}")
        clock.advance(seconds=1)
        accounts.authenticate("mallory@example.org", GOOD_PASSWORD, "192.0.2.10")
        clock.advance(seconds=1)
        with pytest.raises(accounts.SignInLinkRequired):
            accounts.authenticate("ana@example.org", GOOD_PASSWORD, "192.0.2.11")
    finally:
        app.config["KITAS_LOGIN_ACCOUNT_CEILING"] = 100


def test_a_limit_of_one_refuses_after_one_failure_and_zero_turns_the_limit_off(ctx: Flask, app: Flask) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    setting = "KITAS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"
    try:
        app.config[setting] = 1
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", "a wrong guess", "198.51.100.7")
        with pytest.raises(accounts.LoginThrottled):
            accounts.authenticate("ana@example.org", GOOD_PASSWORD, "198.51.100.7")
        app.config[setting] = 0  # off: only the per-address limit (20) and the ceiling remain
        for _ in range(6):
            with pytest.raises(accounts.LoginRefused):
                accounts.authenticate("ana@example.org", "a wrong guess", "198.51.100.8")
        assert accounts.authenticate("ana@example.org", GOOD_PASSWORD, "198.51.100.8").email == "ana@example.org"
    finally:
        app.config[setting] = 5


def test_wrong_codes_do_not_count_toward_the_password_ceiling(ctx: Flask, app: Flask) -> None:
    from tests.factories import current_code

    vera = make_user("verifier", email="vera@example.org", password=GOOD_PASSWORD)  # an app of the factory
    right = current_code()
    wrong = ("1" if right[0] != "1" else "2") + right[1:]
    app.config["KITAS_LOGIN_ACCOUNT_CEILING"] = 3
    try:
        for number in range(3):
            with pytest.raises(accounts.CodeRefused):
                accounts.verify_sign_in_code(vera, wrong, f"198.51.100.{number}")
        assert accounts.authenticate("vera@example.org", GOOD_PASSWORD, "192.0.2.11").email == "vera@example.org"
    finally:
        app.config["KITAS_LOGIN_ACCOUNT_CEILING"] = 100


def test_the_ceiling_counts_failures_over_hours(ctx: Flask, app: Flask, clock: ManualClock) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    app.config["KITAS_LOGIN_ACCOUNT_CEILING"] = 3
    try:
        for number in range(3):
            with pytest.raises(accounts.LoginRefused):
                accounts.authenticate("ana@example.org", "a wrong guess", f"198.51.100.{number}")
        clock.advance(hours=2)  # long past the 15-minute window, well within KITAS_LOGIN_CEILING_HOURS (24)
        with pytest.raises(accounts.SignInLinkRequired):
            accounts.authenticate("ana@example.org", GOOD_PASSWORD, "192.0.2.11")
        clock.advance(hours=22, seconds=1)
        assert accounts.authenticate("ana@example.org", GOOD_PASSWORD, "192.0.2.11").email == "ana@example.org"
    finally:
        app.config["KITAS_LOGIN_ACCOUNT_CEILING"] = 100


def test_successful_sign_ins_do_not_count_toward_the_address_limit(ctx: Flask) -> None:
    """An office behind one address signs in many people; only failures count against it."""
    for number in range(21):  # past KITAS_LOGIN_MAX_FAILURES_PER_ADDRESS (20), every one a success
        make_user("applicant", email=f"staff{number}@example.org", password=GOOD_PASSWORD)
        accounts.authenticate(f"staff{number}@example.org", GOOD_PASSWORD, ADDRESS)
    with pytest.raises(accounts.LoginRefused):  # a wrong password is refused, not throttled
        accounts.authenticate("staff0@example.org", "a wrong guess", ADDRESS)


def test_a_failure_exactly_a_window_old_still_counts(ctx: Flask, clock: ManualClock) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    first = clock.now()
    for _ in range(5):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", "a wrong guess", "198.51.100.7")
    clock.set(first + timedelta(minutes=15))  # KITAS_LOGIN_WINDOW_MINUTES: the failures are still in it
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("ana@example.org", GOOD_PASSWORD, "198.51.100.7")


def test_address_limit_spans_accounts(ctx: Flask, clock: ManualClock) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    for number in range(20):  # KITAS_LOGIN_MAX_FAILURES_PER_ADDRESS, spread over many accounts
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate(f"user{number}@example.org", "a wrong guess", ADDRESS)
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("ana@example.org", GOOD_PASSWORD, ADDRESS)
    assert accounts.authenticate("ana@example.org", GOOD_PASSWORD, "192.0.2.200").email == "ana@example.org"


def test_unknown_accounts_are_limited_too(ctx: Flask) -> None:
    """The limit does not tell an existing account from a made-up one."""
    for _ in range(5):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ghost@example.org", "a wrong guess", "192.0.2.1")
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("ghost@example.org", "a wrong guess", "192.0.2.1")


def test_a_repeating_event_is_audited_once_per_window_with_the_repeats_counted(ctx: Flask, clock: ManualClock) -> None:
    from kitas.transactions import write_transaction

    def once() -> bool:
        with write_transaction():
            return audit.record_once_per_window("login_throttled:test", timedelta(minutes=15), "login_throttled", {})

    assert [once(), once(), once()] == [True, False, False]
    clock.advance(minutes=15, seconds=1)
    assert [once(), once()] == [True, False]
    clock.advance(minutes=15, seconds=1)
    assert once() is True
    db.session.rollback()
    counts = [e.detail["repeats_not_audited"] for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert counts == [0, 2, 1]  # the count restarts with each row


def test_logout_ends_every_session(ctx: Flask) -> None:
    user = make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    before = user.session_token
    accounts.logout(user, ADDRESS)
    db.session.rollback()
    fresh = db.session.get(User, user.id)
    assert fresh is not None and fresh.session_token != before
    assert actions() == ["logout"]


def test_logout_is_audited_as_the_user_with_the_address(ctx: Flask) -> None:
    user = make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    accounts.logout(user, ADDRESS)
    db.session.rollback()
    [row] = db.session.scalars(select(AuditEvent)).all()
    assert row.action == "logout" and row.actor_id == user.id
    assert row.detail == {"email": "ana@example.org", "address": ADDRESS}


# --- sign-in links ------------------------------------------------------------------------------------


def _sign_in_token(user: User) -> str:
    """A sign-in link token for ``user`` as the mail would carry it now."""
    db.session.rollback()
    return account_tokens.sign_in_token(user, login_limits.last_success_id(user.email))


def test_a_sign_in_link_signs_in_once_and_is_recorded_and_audited(ctx: Flask) -> None:
    user = make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    accounts.authenticate("ana@example.org", GOOD_PASSWORD, ADDRESS)  # an earlier success the link must follow
    token = _sign_in_token(user)
    other = make_user("applicant", email="other@example.org", password=GOOD_PASSWORD)
    accounts.authenticate(other.email, GOOD_PASSWORD, ADDRESS)  # another account's sign-in spends nothing
    assert accounts.check_sign_in_link(token).id == user.id
    assert accounts.sign_in_with_link(token, "192.0.2.44").id == user.id
    db.session.rollback()
    last = db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id.desc())).first()
    assert last is not None
    assert (last.account, last.address, last.succeeded, last.factor) == ("ana@example.org", "192.0.2.44", True, "link")
    row = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert row is not None and row.action == "login_succeeded" and row.actor_id == user.id
    assert row.detail == {"email": "ana@example.org", "address": "192.0.2.44", "with": "link"}
    for use in (accounts.check_sign_in_link, lambda t: accounts.sign_in_with_link(t, ADDRESS)):
        with pytest.raises(accounts.SignInLinkInvalid) as spent:
            use(token)
        assert str(spent.value) == "this sign-in link was already used, or you signed in since it was sent"
        assert spent.value.expired is False


def test_a_password_sign_in_spends_an_earlier_sign_in_link(ctx: Flask) -> None:
    user = make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    token = _sign_in_token(user)
    accounts.authenticate("ana@example.org", GOOD_PASSWORD, ADDRESS)
    with pytest.raises(accounts.SignInLinkInvalid):
        accounts.check_sign_in_link(token)
    with pytest.raises(accounts.SignInLinkInvalid):
        accounts.sign_in_with_link(token, ADDRESS)


def test_sign_in_link_problems_say_what_is_wrong(ctx: Flask, clock: ManualClock) -> None:
    user = make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    closed = make_user("applicant", email="closed@example.org", password=GOOD_PASSWORD)
    closed.is_active = False
    db.session.commit()
    closed_token = _sign_in_token(closed)
    old_token = _sign_in_token(user)
    clock.advance(minutes=31)
    cases = [
        ("forged", "this sign-in link is damaged or not one of ours", False),
        (old_token, "this sign-in link is more than 30 minutes old", True),
    ]
    for use in (accounts.check_sign_in_link, lambda t: accounts.sign_in_with_link(t, ADDRESS)):
        for token, message, expired in cases:
            with pytest.raises(accounts.SignInLinkInvalid) as problem:
                use(token)
            assert (str(problem.value), problem.value.expired) == (message, expired)
    clock.advance(minutes=-31)
    for use in (accounts.check_sign_in_link, lambda t: accounts.sign_in_with_link(t, ADDRESS)):
        with pytest.raises(accounts.SignInLinkInvalid) as refused:  # a closed account: the link lets no one in
            use(closed_token)
        assert str(refused.value) == "this sign-in link is for an account that is closed"
        assert refused.value.expired is False
    db.session.rollback()
    assert db.session.scalars(select(LoginAttempt).where(LoginAttempt.succeeded)).all() == []


# --- e-mail confirmation ------------------------------------------------------------------------------


def test_confirmation_link_works_for_48_hours(ctx: Flask, clock: ManualClock) -> None:
    user = accounts.register(**registration())
    token = token_from(outbox(accounts.VERIFY_SUBJECT)[0], "/auth/verify/")
    clock.advance(hours=47, minutes=59)
    assert accounts.is_verified(accounts.confirm_email(token))
    assert accounts.is_verified(accounts.confirm_email(token))  # a second click changes nothing
    assert actions().count("email_verified") == 1
    db.session.rollback()
    assert db.session.get(User, user.id).email_verified_at is not None  # type: ignore[union-attr]


def test_expired_confirmation_link_names_the_address_for_a_new_one(ctx: Flask, clock: ManualClock) -> None:
    accounts.register(**registration())
    token = token_from(outbox(accounts.VERIFY_SUBJECT)[0], "/auth/verify/")
    clock.advance(hours=48, seconds=1)
    with pytest.raises(accounts.TokenInvalid) as expired:
        accounts.confirm_email(token)
    assert expired.value.expired and expired.value.email == "maria.silva@example.org"


@pytest.mark.parametrize("damage", ["truncate", "flip", "other-salt", "garbage"])
def test_forged_confirmation_links_are_refused(ctx: Flask, damage: str) -> None:
    user = accounts.register(**registration())
    token = token_from(outbox(accounts.VERIFY_SUBJECT)[0], "/auth/verify/")
    forged = {
        "truncate": token[:-3],
        "flip": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "other-salt": account_tokens.reset_token(user),  # a reset link is no confirmation link
        "garbage": "not-a-token",
    }[damage]
    with pytest.raises(accounts.TokenInvalid) as refused:
        accounts.confirm_email(forged)
    assert not refused.value.expired and refused.value.email is None
    assert not accounts.is_verified(db.session.get(User, user.id))  # type: ignore[arg-type]


def test_a_link_for_an_old_address_does_not_confirm_the_new_one(ctx: Flask) -> None:
    user = accounts.register(**registration())
    token = token_from(outbox(accounts.VERIFY_SUBJECT)[0], "/auth/verify/")
    user.email = "maria.new@example.org"
    db.session.commit()
    with pytest.raises(accounts.TokenInvalid):
        accounts.confirm_email(token)


def test_new_links_are_capped_per_hour(ctx: Flask, clock: ManualClock) -> None:
    accounts.register(**registration())  # the first link
    for _ in range(5):
        accounts.resend_verification("maria.silva@example.org", ADDRESS)
    assert len(outbox(accounts.VERIFY_SUBJECT)) == accounts.MAIL_LIMIT
    accounts.resend_verification("nobody@example.org", ADDRESS)  # says nothing, sends nothing
    assert len(outbox()) == accounts.MAIL_LIMIT
    # ...but queued its row like any other address, so the request did the same work.
    assert [row.recipient for row in queued_rows()][-1] == "nobody@example.org"
    clock.advance(hours=1, seconds=1)
    accounts.resend_verification("maria.silva@example.org", ADDRESS)
    assert len(outbox(accounts.VERIFY_SUBJECT)) == accounts.MAIL_LIMIT + 1


def test_no_new_link_once_confirmed(ctx: Flask) -> None:
    accounts.create_account("done@example.org", "Done Person", GOOD_PASSWORD, ["applicant"], verified=True)
    accounts.resend_verification("done@example.org", ADDRESS)
    assert outbox() == []


# --- password reset --------------------------------------------------------------------------------


def test_reset_link_works_once_and_ends_sessions(ctx: Flask, clock: ManualClock) -> None:
    user = make_user("applicant", email="ana@example.org", name="Ana Applicant", password=GOOD_PASSWORD)
    session_token = user.session_token
    for _ in range(5):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("ana@example.org", "forgotten guess", ADDRESS)
    accounts.request_password_reset("ANA@example.org", ADDRESS)
    [mail] = outbox(accounts.RESET_SUBJECT)
    token = token_from(mail, "/auth/reset/")
    assert accounts.check_reset_token(token).id == user.id
    accounts.reset_password(token, "brand new garden path", "brand new garden path", ADDRESS)
    db.session.rollback()
    fresh = db.session.get(User, user.id)
    assert fresh is not None
    assert fresh.session_token != session_token
    assert fresh.email_verified_at is not None  # the link proved the mailbox
    with pytest.raises(accounts.TokenInvalid) as reused:
        accounts.check_reset_token(token)
    assert "already used" in str(reused.value)
    # The reset lifted the account's lock; the new password works and the old one does not.
    assert accounts.authenticate("ana@example.org", "brand new garden path", ADDRESS).id == user.id
    with pytest.raises(accounts.LoginRefused):
        accounts.authenticate("ana@example.org", GOOD_PASSWORD, ADDRESS)
    assert [mail.subject for mail in outbox()][-1] == accounts.CHANGED_SUBJECT
    assert "password_reset_requested" in actions() and "password_reset_done" in actions()


def test_reset_link_expires_after_an_hour(ctx: Flask, clock: ManualClock) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    accounts.request_password_reset("ana@example.org", ADDRESS)
    token = token_from(outbox(accounts.RESET_SUBJECT)[0], "/auth/reset/")
    clock.advance(hours=1, seconds=1)
    with pytest.raises(accounts.TokenInvalid) as expired:
        accounts.reset_password(token, "brand new garden path", "brand new garden path", ADDRESS)
    assert expired.value.expired


def test_an_older_reset_link_dies_when_a_newer_one_is_used(ctx: Flask, clock: ManualClock) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    accounts.request_password_reset("ana@example.org", ADDRESS)
    clock.advance(minutes=2)
    accounts.request_password_reset("ana@example.org", ADDRESS)
    older, newer = (token_from(mail, "/auth/reset/") for mail in outbox(accounts.RESET_SUBJECT))
    accounts.reset_password(newer, "brand new garden path", "brand new garden path", ADDRESS)
    with pytest.raises(accounts.TokenInvalid):
        accounts.reset_password(older, "another garden path", "another garden path", ADDRESS)


def test_reset_applies_the_password_policy(ctx: Flask) -> None:
    make_user("applicant", email="ana@example.org", name="Ana Applicant", password=GOOD_PASSWORD)
    accounts.request_password_reset("ana@example.org", ADDRESS)
    token = token_from(outbox(accounts.RESET_SUBJECT)[0], "/auth/reset/")
    for password, confirm, field in [
        ("iloveyou", "iloveyou", "password"),
        ("applicant forever", "applicant forever", "password"),
        ("brand new garden path", "brand new garden", "password_confirm"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            accounts.reset_password(token, password, confirm, ADDRESS)
        assert field in refused.value.errors
    assert accounts.check_reset_token(token)  # still usable after refusals


@pytest.mark.parametrize("request_link", [accounts.request_password_reset, accounts.resend_verification])
def test_a_request_does_the_same_work_whether_or_not_the_account_exists(ctx: Flask, request_link: Any) -> None:
    """Reset and resend: the same one outbox row, no account looked up, nothing rendered in the request."""
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    request_link("ana@example.org", ADDRESS)
    request_link("nobody@example.org", ADDRESS)
    known, unknown = queued_rows()
    for row in (known, unknown):
        assert row.user_id is None and row.sent_at is None and row.link is None
        assert row.template is not None and row.body == f'{{"address": "{ADDRESS}"}}'
    assert (known.template, known.subject, known.channel) == (unknown.template, unknown.subject, unknown.channel)
    assert actions() == []  # the request wrote nothing to the audit trail either
    outbox()
    db.session.rollback()
    assert [row.sent_at is not None for row in queued_rows()] == [True, True]


def test_reset_for_unknown_address_sends_nothing(ctx: Flask) -> None:
    accounts.request_password_reset("nobody@example.org", ADDRESS)
    assert outbox() == []
    assert actions() == []


def test_reset_mails_are_capped_per_hour(ctx: Flask) -> None:
    make_user("applicant", email="ana@example.org", password=GOOD_PASSWORD)
    for _ in range(6):
        accounts.request_password_reset("ana@example.org", ADDRESS)
    assert len(outbox(accounts.RESET_SUBJECT)) == accounts.MAIL_LIMIT


def test_every_account_event_keeps_the_audit_chain_intact(ctx: Flask) -> None:
    accounts.register(**registration())
    accounts.confirm_email(token_from(outbox(accounts.VERIFY_SUBJECT)[0], "/auth/verify/"))
    user = accounts.authenticate("maria.silva@example.org", GOOD_PASSWORD, ADDRESS)
    accounts.logout(user, ADDRESS)
    assert actions() == ["register", "email_verification_sent", "email_verified", "login_succeeded", "logout"]
    assert audit.verify_chain().ok
    db.session.rollback()
    events = db.session.scalars(select(AuditEvent)).all()
    assert all(event.occurred_at.tzinfo is not None for event in events)
    assert GOOD_PASSWORD not in str([event.detail for event in events])
