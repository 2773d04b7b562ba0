"""The second factor through the pages: required for officers before any of their pages, optional for
applicants, every bad code, the sign-in link past the ceiling, refusals at the role check audited."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine import ManualClock
from kitas.extensions import db
from kitas.models import AuditEvent, Notification, User
from kitas.services import accounts, notifications
from kitas.services.accounts.second_factor import code_at, current_step
from kitas.web.access import PENDING_KEY, SECOND_FACTOR_KEY
from tests.factories import current_code, make_user

PASSWORD = "tropical mango lantern 42"


def text_of(response: Any) -> str:
    """The page as text, entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def login(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    """Post the sign-in form."""
    g.pop("_login_user", None)
    return client.post("/auth/login", data={"email": email, "password": password, **extra})


def send_code(client: FlaskClient, code: str) -> Any:
    """Post the code step."""
    g.pop("_login_user", None)
    return client.post("/auth/code", data={"code": code})


def get(client: FlaskClient, path: str) -> Any:
    """A GET as a fresh request (no user cached in the test's application context)."""
    g.pop("_login_user", None)
    return client.get(path)


def post(client: FlaskClient, path: str, **data: str) -> Any:
    """A form POST as a fresh request."""
    g.pop("_login_user", None)
    return client.post(path, data=data)


def session_keys(client: FlaskClient) -> set[str]:
    """The keys of the client's session."""
    with client.session_transaction() as session:
        return set(session.keys())


def audit_rows(action: str) -> list[AuditEvent]:
    """The audit rows of ``action``."""
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture()
def vera(ctx: Flask) -> User:
    """A verifier with a password and the factory's app."""
    user = make_user("verifier", email="vera@imigrasi.example", name="Vera Verifier", password=PASSWORD)
    user.email_verified_at = user.created_at
    db.session.commit()
    return user


@pytest.fixture()
def ana(ctx: Flask) -> User:
    """A verified applicant with a password and no app."""
    user = make_user("applicant", email="ana@example.org", name="Ana Applicant", password=PASSWORD)
    user.email_verified_at = user.created_at
    db.session.commit()
    return user


# --- officers ------------------------------------------------------------------------------------


def test_an_enrolled_officer_signs_in_with_password_then_code(client: FlaskClient, vera: User) -> None:
    response = login(client, vera.email, next="/officer/")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/code"
    assert "_user_id" not in session_keys(client)  # not signed in yet
    assert get(client, "/officer/").status_code == 302
    page = get(client, "/auth/code")
    assert page.status_code == 200 and "vera@imigrasi.example" in text_of(page)
    done = send_code(client, current_code())
    assert done.status_code == 302 and done.headers["Location"] == "/officer/"
    assert {"_user_id", SECOND_FACTOR_KEY} <= session_keys(client) and PENDING_KEY not in session_keys(client)
    assert get(client, "/officer/").status_code == 200


def test_an_officer_page_before_the_code_step_sends_to_the_code_step(client: FlaskClient, vera: User) -> None:
    login(client, vera.email)
    refused = get(client, "/officer/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/auth/login?next=")
    onward = get(client, refused.headers["Location"])
    assert onward.status_code == 302 and onward.headers["Location"] == "/auth/code"
    assert send_code(client, current_code()).headers["Location"] == "/officer/"


@pytest.mark.parametrize("typed", ["", "12345", "abcdef", "1234567", "aaaa-bbbb-cccc-dddd"])
def test_a_bad_code_keeps_the_code_step_working(client: FlaskClient, vera: User, typed: str) -> None:
    login(client, vera.email)
    response = send_code(client, typed)
    assert response.status_code == 422
    assert 'data-testid="code-error"' in text_of(response) and 'name="code"' in text_of(response)
    assert "_user_id" not in session_keys(client)
    assert send_code(client, current_code()).status_code == 302


def test_a_wrong_six_digit_code_says_so(client: FlaskClient, vera: User) -> None:
    login(client, vera.email)
    wrong = "000000" if current_code() != "000000" else "111111"
    assert "That code is not correct" in text_of(send_code(client, wrong))


def test_a_reused_code_is_refused_on_the_next_sign_in(client: FlaskClient, app: Flask, vera: User) -> None:
    code = current_code()
    login(client, vera.email)
    assert send_code(client, code).status_code == 302
    laptop = app.test_client()
    login(laptop, vera.email)
    replayed = send_code(laptop, code)
    assert replayed.status_code == 422 and "already used" in text_of(replayed)
    assert send_code(laptop, current_code(steps_ahead=1)).status_code == 302  # the app's next code


def test_a_used_recovery_code_is_refused(client: FlaskClient, vera: User, clock: ManualClock) -> None:
    codes = accounts.regenerate_recovery_codes(vera, current_code(), "127.0.0.1")
    clock.advance(seconds=30)
    login(client, vera.email)
    done = send_code(client, codes[3])
    assert done.status_code == 302
    assert "signed in with a recovery code; 9 of them are left" in text_of(get(client, "/officer/"))
    client.post("/auth/logout")
    login(client, vera.email)
    again = send_code(client, codes[3])
    assert again.status_code == 422 and "recovery code was already used" in text_of(again)


def test_an_unenrolled_officer_must_enrol_first_and_a_wrong_code_keeps_the_page(client: FlaskClient) -> None:
    sam = make_user("supervisor", email="sam@imigrasi.example", name="Sam Supervisor", password=PASSWORD, app=False)
    response = login(client, sam.email, next="/officer/")
    assert response.headers["Location"] == "/auth/enrol"
    assert get(client, "/officer/").status_code == 302
    page = text_of(get(client, "/auth/enrol"))
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)
    assert secret is not None and "<svg" in page and "Your role needs a second step" in page
    key = secret.group(1).replace(" ", "")
    wrong = client.post("/auth/enrol", data={"code": "12"})
    assert wrong.status_code == 422 and "still the same" in text_of(wrong)
    assert secret.group(1) in text_of(wrong)  # the same key: what was scanned still works
    done = client.post("/auth/enrol", data={"code": code_at(key, current_step())})
    codes_page = text_of(done)
    assert done.status_code == 200 and "Keep these recovery codes" in codes_page
    assert len(re.findall(r"<li class=\"col text-nowrap\">[a-z2-9]{4}-", codes_page)) == 10
    assert 'href="/officer/"' in codes_page
    assert get(client, "/officer/").status_code == 200


@pytest.mark.parametrize("role", ["verifier", "supervisor", "analyst", "admin"])
def test_every_officer_role_needs_the_code_step(client: FlaskClient, role: str) -> None:
    officer = make_user(role, email=f"{role}@imigrasi.example", password=PASSWORD)
    assert login(client, officer.email).headers["Location"] == "/auth/code"
    assert "_user_id" not in session_keys(client)


def test_a_session_from_before_the_requirement_is_sent_to_the_code_step(
    client: FlaskClient, ana: User, login_as: Any
) -> None:
    login_as(ana)
    assert get(client, "/applications/").status_code == 200
    # Ana becomes a verifier while signed in (the factory gives officers an app).
    from kitas.models import Role, SecondFactor
    from tests.factories import OFFICER_TOTP_SECRET

    ana = db.session.merge(ana)
    ana.roles.append(db.session.scalars(select(Role).where(Role.name == "verifier")).one())
    now = ana.created_at
    db.session.add(SecondFactor(user_id=ana.id, secret=OFFICER_TOTP_SECRET, created_at=now, confirmed_at=now))
    db.session.commit()
    parked = get(client, "/applications/")
    assert parked.status_code == 302 and parked.headers["Location"].startswith("/auth/login")
    assert PENDING_KEY in session_keys(client)
    assert get(client, "/auth/login").headers["Location"] == "/auth/code"


def test_a_pending_sign_in_expires(client: FlaskClient, vera: User, clock: ManualClock) -> None:
    login(client, vera.email)
    clock.advance(minutes=11)
    gone = send_code(client, current_code())
    assert gone.status_code == 302 and gone.headers["Location"] == "/auth/login"


def test_cancel_at_the_code_step_clears_the_pending_sign_in(client: FlaskClient, vera: User) -> None:
    login(client, vera.email)
    client.post("/auth/logout")
    assert PENDING_KEY not in session_keys(client)
    assert get(client, "/auth/code").headers["Location"] == "/auth/login"


def test_wrong_codes_are_limited_at_the_code_step(client: FlaskClient, vera: User) -> None:
    login(client, vera.email)
    wrong = "000000" if current_code() != "000000" else "111111"
    for _ in range(5):
        assert send_code(client, wrong).status_code == 422
    throttled = send_code(client, current_code())
    assert throttled.status_code == 429 and "Too many wrong codes" in text_of(throttled)
    assert len(audit_rows("code_refused")) == 5 and len(audit_rows("code_throttled")) == 1


# --- applicants ----------------------------------------------------------------------------------


def test_an_applicant_without_an_app_signs_in_with_the_password_alone(client: FlaskClient, ana: User) -> None:
    response = login(client, ana.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert get(client, "/applications/").status_code == 200
    page = text_of(get(client, "/auth/security"))
    assert "Off: signing in needs only your password." in page and 'href="/auth/enrol"' in page


def test_an_applicant_turns_the_app_on_and_off(client: FlaskClient, app: Flask, ana: User, clock: ManualClock) -> None:
    login(client, ana.email)
    page = text_of(get(client, "/auth/enrol"))
    assert "<svg" in page and "signing in asks for a 6-digit code" in page
    key = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")  # type: ignore[union-attr]
    done = client.post("/auth/enrol", data={"code": code_at(key, current_step())})
    assert done.status_code == 200 and 'href="/auth/security"' in text_of(done)
    assert get(client, "/applications/").status_code == 200  # this session proved the code
    assert "On: signing in asks for a 6-digit code" in text_of(get(client, "/auth/security"))
    # Another sign-in now needs the code.
    other = app.test_client()
    assert login(other, ana.email).headers["Location"] == "/auth/code"
    # Turning it off needs a current code; a wrong one keeps it on.
    refused = post(client, "/auth/security/disable", code="")
    assert refused.status_code == 422 and 'data-testid="code-error"' in text_of(refused)
    clock.advance(seconds=30)
    off = post(client, "/auth/security/disable", code=code_at(key, current_step()))
    assert off.status_code == 302
    assert "Off: signing in needs only your password." in text_of(get(client, "/auth/security"))
    assert login(app.test_client(), ana.email).headers["Location"] == "/"


def test_new_recovery_codes_from_the_security_page(client: FlaskClient, vera: User, login_as: Any) -> None:
    login_as(vera)
    page = text_of(get(client, "/auth/security"))
    assert "cannot be turned off" in page and 'action="/auth/security/disable"' not in page
    assert client.post("/auth/security/recovery-codes", data={"code": "nope"}).status_code == 422
    made = client.post("/auth/security/recovery-codes", data={"code": current_code()})
    assert made.status_code == 200 and "Your earlier recovery codes no longer work" in text_of(made)
    assert "<strong>10</strong> unused recovery codes" in text_of(get(client, "/auth/security"))
    refused = client.post("/auth/security/disable", data={"code": current_code(steps_ahead=1)})
    assert refused.status_code == 409 and "cannot be turned off" in text_of(refused)


def test_security_pages_need_a_signed_in_session(client: FlaskClient) -> None:
    assert get(client, "/auth/security").headers["Location"].startswith("/auth/login")
    assert get(client, "/auth/enrol").headers["Location"] == "/auth/login"
    assert client.post("/auth/security/disable", data={"code": "123456"}).status_code == 302


# --- the ceiling and the sign-in link --------------------------------------------------------------


def test_past_the_ceiling_the_owner_gets_in_by_the_emailed_link(
    client: FlaskClient, app: Flask, ana: User, smtp_server: list[Any]
) -> None:
    app.config["KITAS_LOGIN_ACCOUNT_CEILING"] = 8
    try:
        for number in range(8):  # a distributed guesser: each address under its own limit
            response = client.post(
                "/auth/login",
                data={"email": ana.email, "password": "a wrong guess"},
                environ_base={"REMOTE_ADDR": f"198.51.100.{number}"},
            )
            assert response.status_code == 401
        paused = login(client, ana.email)  # the owner, with the right password, from elsewhere
        assert paused.status_code == 429 and "we e-mailed its owner a one-time sign-in link" in text_of(paused)
        unknown = login(client, "nobody@example.org")
        assert unknown.status_code == 401  # a made-up account has not reached any ceiling
        for _ in range(5):
            login(client, ana.email)
        notifications.deliver_due()
        links = [m for m in smtp_server if m["Subject"] == accounts.SIGN_IN_SUBJECT]
        assert len(links) == accounts.MAIL_LIMIT and all(m["To"] == ana.email for m in links)
        assert len(audit_rows("login_link_required")) == 1  # one row per window, however many tries
        path = re.findall(r"http://kitas\.test(/auth/link/\S+)", links[-1].get_content())[0]
        shown = get(client, path)
        assert shown.status_code == 200 and ana.email in text_of(shown)
        signed_in = client.post(path)
        assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
        assert get(client, "/applications/").status_code == 200
        spent = client.post(path)
        assert spent.status_code == 400 and "already used" in text_of(spent)
        # The link ended the run of failures: the password works again.
        client.post("/auth/logout")
        assert login(client, ana.email).status_code == 302
    finally:
        app.config["KITAS_LOGIN_ACCOUNT_CEILING"] = 100


def test_a_sign_in_link_leads_an_officer_to_the_code_step(
    client: FlaskClient, app: Flask, vera: User, smtp_server: list[Any]
) -> None:
    from kitas.services.accounts import mail
    from kitas.transactions import write_transaction

    with write_transaction():
        mail.queue(mail.SIGN_IN_LINK, vera.email, "127.0.0.1")
    notifications.deliver_due()
    path = re.findall(r"http://kitas\.test(/auth/link/\S+)", smtp_server[0].get_content())[0]
    response = client.post(path)
    assert response.headers["Location"] == "/auth/code"
    assert get(client, "/officer/").status_code == 302
    assert send_code(client, current_code()).status_code == 302
    assert get(client, "/officer/").status_code == 200


def test_forged_or_old_sign_in_links_get_a_clear_page(client: FlaskClient, ana: User, clock: ManualClock) -> None:
    from kitas.services.accounts import tokens

    assert client.get("/auth/link/forged").status_code == 400
    token = tokens.sign_in_token(ana, 0)
    clock.advance(minutes=31)
    old = client.post(f"/auth/link/{token}")
    assert old.status_code == 400 and "more than 30 minutes old" in text_of(old)


# --- the role check ------------------------------------------------------------------------------


def test_an_applicant_on_an_officer_page_is_refused_and_audited(ana: User, login_as: Any) -> None:
    client = login_as(ana)
    for _ in range(3):
        assert get(client, "/officer/").status_code == 403
    [row] = audit_rows("access_refused")
    assert row.actor_id == ana.id
    assert row.detail["object"] == "page" and row.detail["id"] == "/officer/" and row.detail["reason"] == "role"
    assert row.detail["area"] == "officer" and row.detail["roles"] == ["verifier", "supervisor", "admin"]


def test_anonymous_hits_on_a_role_check_are_audited_once_per_window(client: FlaskClient, clock: ManualClock) -> None:
    for _ in range(25):
        assert client.get("/officer/").status_code == 302
    [first] = audit_rows("access_refused")
    assert first.actor == "anonymous (127.0.0.1)" and first.detail["repeats_not_audited"] == 0
    clock.advance(minutes=15, seconds=1)
    client.get("/officer/")
    rows = audit_rows("access_refused")
    assert len(rows) == 2 and rows[1].detail["repeats_not_audited"] == 24
    # Another address has its own row.
    client.get("/officer/", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert len(audit_rows("access_refused")) == 3


def test_throttled_sign_ins_add_one_audit_row_per_window_and_address(
    client: FlaskClient, ana: User, clock: ManualClock
) -> None:
    for _ in range(5):
        login(client, ana.email, "a wrong guess")
    for _ in range(30):
        assert login(client, ana.email, "a wrong guess").status_code == 429
    assert len(audit_rows("login_throttled")) == 1
    db.session.rollback()
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    for number in range(30):
        login(client, f"someone{number}@example.org", "a guess")  # the same address, other accounts
    db.session.rollback()
    # 15 more failures reach the address's limit of 20, each audited; the throttled rest add nothing.
    assert db.session.scalar(select(func.count(AuditEvent.id))) - before == 15
    assert len(audit_rows("login_throttled")) == 1


def test_role_refusals_are_not_counted_as_mail(client: FlaskClient) -> None:
    client.get("/officer/")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Notification.id))) == 0
