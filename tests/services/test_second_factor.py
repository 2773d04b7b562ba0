"""The second factor as a service: enrolment, codes once only, recovery codes, limits, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from engine import ManualClock
from kitas.extensions import db
from kitas.models import AuditEvent, LoginAttempt, RecoveryCode, SecondFactor, User
from kitas.services import accounts, audit
from kitas.services.accounts.second_factor import code_at, current_step
from kitas.services.errors import ServiceError
from tests.factories import OFFICER_TOTP_SECRET, current_code, make_user

ADDRESS = "203.0.113.7"


def actions() -> list[str]:
    """Every audit action so far, in order."""
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def fresh(user: User) -> User:
    """The user as stored now."""
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


@pytest.fixture()
def ana(ctx: Flask) -> User:
    """An applicant without an app."""
    return make_user("applicant", email="ana@example.org", name="Ana Applicant")


@pytest.fixture()
def vera(ctx: Flask) -> User:
    """A verifier enrolled by the factory with ``OFFICER_TOTP_SECRET``."""
    return make_user("verifier", email="vera@imigrasi.example", name="Vera Verifier")


def test_who_needs_a_second_factor(ctx: Flask, ana: User, vera: User) -> None:
    for role in accounts.MFA_ROLES:
        officer = make_user(role, email=f"{role}@imigrasi.example", app=False)
        assert accounts.requires_second_factor(officer) and accounts.second_factor_due(officer)
        assert not accounts.is_enrolled(officer)
    sponsor = make_user("sponsor", email="hr@employer.example")
    assert not accounts.second_factor_due(ana) and not accounts.second_factor_due(sponsor)
    assert accounts.is_enrolled(vera) and accounts.second_factor_due(vera)


def test_enrolment_shows_the_same_pending_secret_until_confirmed(ana: User) -> None:
    first = accounts.start_enrolment(ana)
    again = accounts.start_enrolment(ana)
    assert first.secret == again.secret and len(first.secret) == 32
    assert first.uri.startswith("otpauth://totp/KITAS%20Online:ana%40example.org?secret=" + first.secret)
    assert first.qr_svg.startswith("<svg") and "<path" in first.qr_svg
    assert first.grouped_secret.replace(" ", "") == first.secret
    assert not accounts.is_enrolled(fresh(ana)) and not accounts.second_factor_due(fresh(ana))


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "000000"])
def test_a_wrong_confirmation_code_keeps_the_enrolment_pending(ana: User, typed: str) -> None:
    enrolment = accounts.start_enrolment(ana)
    if typed == "000000" and code_at(enrolment.secret, current_step()) == typed:
        typed = "999999"  # one chance in a million that 000000 is right just now
    with pytest.raises(accounts.CodeRefused):
        accounts.confirm_enrolment(ana, typed, ADDRESS)
    assert not accounts.is_enrolled(fresh(ana))
    assert accounts.start_enrolment(fresh(ana)).secret == enrolment.secret  # the page keeps working
    assert actions() == ["code_refused"]
    # ...and the right code still confirms it afterwards.
    codes = accounts.confirm_enrolment(fresh(ana), code_at(enrolment.secret, current_step()), ADDRESS)
    assert len(codes) == accounts.RECOVERY_CODES == 10 and len(set(codes)) == 10
    assert accounts.is_enrolled(fresh(ana)) and accounts.second_factor_due(fresh(ana))


def test_confirmation_gives_recovery_codes_kept_only_as_digests(ana: User) -> None:
    enrolment = accounts.start_enrolment(ana)
    codes = accounts.confirm_enrolment(ana, code_at(enrolment.secret, current_step()), ADDRESS)
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert all(code.replace("-", "") not in digest for digest in stored)
    assert actions() == ["code_accepted", "mfa_enabled"]
    with pytest.raises(ServiceError):
        accounts.start_enrolment(fresh(ana))  # already set up: no second pending secret


def test_a_sign_in_code_is_accepted_once(vera: User, clock: ManualClock) -> None:
    code = current_code()
    assert accounts.verify_sign_in_code(vera, code, ADDRESS) == "totp"
    with pytest.raises(accounts.CodeRefused) as replayed:
        accounts.verify_sign_in_code(fresh(vera), code, ADDRESS)
    assert "already used" in str(replayed.value)
    clock.advance(seconds=30)
    assert accounts.verify_sign_in_code(fresh(vera), current_code(), ADDRESS) == "totp"


def test_an_older_code_is_refused_after_a_newer_one(vera: User) -> None:
    accounts.verify_sign_in_code(vera, current_code(steps_ahead=1), ADDRESS)  # the app's clock runs ahead
    with pytest.raises(accounts.CodeRefused) as older:
        accounts.verify_sign_in_code(fresh(vera), current_code(), ADDRESS)
    assert "already used" in str(older.value)


def test_codes_one_step_either_side_are_accepted_but_not_two(vera: User, clock: ManualClock) -> None:
    assert accounts.verify_sign_in_code(vera, current_code(steps_ahead=-1), ADDRESS) == "totp"
    clock.advance(seconds=90)
    with pytest.raises(accounts.CodeRefused) as far:
        accounts.verify_sign_in_code(fresh(vera), current_code(steps_ahead=-2), ADDRESS)
    assert "not correct" in str(far.value)
    with pytest.raises(accounts.CodeRefused):
        accounts.verify_sign_in_code(fresh(vera), current_code(steps_ahead=2), ADDRESS)


@pytest.mark.parametrize("typed", ["", "   ", "12 34 5", "abcdefgh", "9" * 40])
def test_missing_or_malformed_codes_are_refused_and_counted(vera: User, typed: str) -> None:
    with pytest.raises(accounts.CodeRefused):
        accounts.verify_sign_in_code(vera, typed, ADDRESS)
    db.session.rollback()
    [attempt] = db.session.scalars(select(LoginAttempt)).all()
    assert attempt.factor == "code" and not attempt.succeeded and attempt.account == vera.email


def test_a_recovery_code_works_once_and_new_ones_replace_the_old(ana: User, clock: ManualClock) -> None:
    enrolment = accounts.start_enrolment(ana)
    codes = accounts.confirm_enrolment(ana, code_at(enrolment.secret, current_step()), ADDRESS)
    assert accounts.verify_sign_in_code(fresh(ana), codes[0].upper().replace("-", " "), ADDRESS) == "recovery"
    assert accounts.recovery_codes_left(fresh(ana)) == 9
    with pytest.raises(accounts.CodeRefused) as used:
        accounts.verify_sign_in_code(fresh(ana), codes[0], ADDRESS)
    assert "already used" in str(used.value)
    clock.advance(seconds=30)
    new = accounts.regenerate_recovery_codes(fresh(ana), code_at(enrolment.secret, current_step()), ADDRESS)
    assert set(new).isdisjoint(codes) and accounts.recovery_codes_left(fresh(ana)) == 10
    with pytest.raises(accounts.CodeRefused):
        accounts.verify_sign_in_code(fresh(ana), codes[1], ADDRESS)  # an old, unused one stopped working
    assert accounts.verify_sign_in_code(fresh(ana), new[1], ADDRESS) == "recovery"


def test_regenerating_needs_a_code_from_the_app_not_a_recovery_code(ana: User) -> None:
    enrolment = accounts.start_enrolment(ana)
    codes = accounts.confirm_enrolment(ana, code_at(enrolment.secret, current_step()), ADDRESS)
    with pytest.raises(accounts.CodeRefused):
        accounts.regenerate_recovery_codes(fresh(ana), codes[0], ADDRESS)
    assert accounts.recovery_codes_left(fresh(ana)) == 10


def test_disabling_needs_a_current_code_and_is_refused_for_officers(ana: User, vera: User, clock: ManualClock) -> None:
    enrolment = accounts.start_enrolment(ana)
    accounts.confirm_enrolment(ana, code_at(enrolment.secret, current_step()), ADDRESS)
    with pytest.raises(accounts.CodeRefused):
        accounts.disable_second_factor(fresh(ana), "", ADDRESS)
    assert accounts.is_enrolled(fresh(ana))
    clock.advance(seconds=30)
    accounts.disable_second_factor(fresh(ana), code_at(enrolment.secret, current_step()), ADDRESS)
    assert not accounts.second_factor_due(fresh(ana))
    db.session.rollback()
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == ana.id)).all() == []
    with pytest.raises(ServiceError) as officer:
        accounts.disable_second_factor(vera, current_code(), ADDRESS)
    assert "cannot be turned off" in str(officer.value)
    assert accounts.is_enrolled(fresh(vera))


def test_wrong_codes_are_limited_like_passwords(vera: User, clock: ManualClock) -> None:
    wrong = "000000" if current_code() != "000000" else "111111"
    for number in range(5):  # KITAS_MFA_MAX_FAILURES, from several addresses
        with pytest.raises(accounts.CodeRefused):
            accounts.verify_sign_in_code(vera, wrong, f"198.51.100.{number}")
    with pytest.raises(accounts.CodeThrottled) as throttled:
        accounts.verify_sign_in_code(fresh(vera), current_code(), "192.0.2.1")  # even the right code waits
    assert throttled.value.retry_at == clock.now() + timedelta(minutes=15)
    for _ in range(10):  # repeated throttled tries add no audit rows after the first
        with pytest.raises(accounts.CodeThrottled):
            accounts.verify_sign_in_code(fresh(vera), current_code(), "192.0.2.1")
    assert actions() == ["code_refused"] * 5 + ["code_throttled"]
    clock.advance(minutes=15, seconds=1)
    assert accounts.verify_sign_in_code(fresh(vera), current_code(), "192.0.2.1") == "totp"
    assert audit.verify_chain().ok


def test_code_failures_count_in_the_address_limit(ctx: Flask, vera: User) -> None:
    for number in range(20):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate(f"guess{number}@example.org", "a wrong guess", ADDRESS)
    with pytest.raises(accounts.CodeThrottled):
        accounts.verify_sign_in_code(vera, current_code(), ADDRESS)


def test_a_code_with_no_app_set_up_is_a_clear_error(ana: User) -> None:
    with pytest.raises(ServiceError) as nothing:
        accounts.verify_sign_in_code(ana, "123456", ADDRESS)
    assert "start again" in str(nothing.value)


def test_the_factory_officer_has_the_known_secret(vera: User) -> None:
    factor = db.session.scalars(select(SecondFactor).where(SecondFactor.user_id == vera.id)).one()
    assert factor.secret == OFFICER_TOTP_SECRET and factor.confirmed_at is not None


def _wrong_code() -> str:
    return "000000" if current_code() != "000000" else "111111"


def _refused_codes(user: User, count: int, prefix: str) -> None:
    for number in range(count):
        with pytest.raises(accounts.CodeRefused):
            accounts.verify_sign_in_code(fresh(user), _wrong_code(), f"{prefix}.{number}")


def test_wrong_codes_of_one_account_do_not_count_against_another(vera: User) -> None:
    otto = make_user("verifier", email="otto@imigrasi.example", name="Otto Officer")
    _refused_codes(vera, 4, "198.51.100")
    _refused_codes(otto, 4, "192.0.2")
    assert accounts.verify_sign_in_code(fresh(vera), current_code(), "203.0.113.50") == "totp"


def test_a_right_code_ends_the_accounts_run_of_wrong_codes(vera: User, clock: ManualClock) -> None:
    _refused_codes(vera, 4, "198.51.100")
    assert accounts.verify_sign_in_code(fresh(vera), current_code(), "203.0.113.50") == "totp"
    clock.advance(seconds=30)
    _refused_codes(vera, 4, "192.0.2")
    assert accounts.verify_sign_in_code(fresh(vera), current_code(), "203.0.113.51") == "totp"
    clock.advance(seconds=30)
    # Wrong passwords are not wrong codes: 3 of them and 2 wrong codes stay under the code limit.
    for number in range(3):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate(vera.email, "a wrong guess", f"198.18.0.{number}")
    _refused_codes(vera, 2, "198.18.1")
    assert accounts.verify_sign_in_code(fresh(vera), current_code(), "203.0.113.52") == "totp"


def test_another_accounts_right_code_does_not_end_this_accounts_run(vera: User) -> None:
    otto = make_user("verifier", email="otto@imigrasi.example", name="Otto Officer")
    _refused_codes(vera, 4, "198.51.100")
    assert accounts.verify_sign_in_code(otto, current_code(), "192.0.2.1") == "totp"
    _refused_codes(vera, 1, "198.51.101")
    with pytest.raises(accounts.CodeThrottled):
        accounts.verify_sign_in_code(fresh(vera), current_code(), "203.0.113.50")
