"""The account pages through the test client: every bad input, real e-mail, limits, sessions, CSRF."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from engine import ManualClock
from kitas.extensions import db
from kitas.models import AuditEvent, LoginAttempt, Notification, User
from kitas.services import accounts, notifications
from tests.factories import make_user
from tests.web.pages import PASSWORD
from tests.web.pages import registration_form as form

NEW_PASSWORD = "quiet harbour at dawn"


def text_of(response: Any) -> str:
    """The page as text, entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def link_in(message: Any) -> str:
    """The site path of the (only) KITAS link in an e-mail received by the SMTP server."""
    found = re.findall(r"http://kitas\.test(/\S+)", message.get_content())
    assert len(found) == 1, found
    return str(found[0])


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on ``path``."""
    # Requests made inside the test's application context share its `g`, where Flask-WTF caches the
    # token of the previous request; in the server every request has its own.
    g.pop("csrf_token", None)
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match is not None
    return match.group(1)


def session_cookie(client: FlaskClient) -> str | None:
    """The session cookie's value, if any."""
    cookie = client.get_cookie("session")
    return cookie.value if cookie is not None else None


def signed_in_user_id(client: FlaskClient) -> str | None:
    """The ``_user_id`` of the client's session."""
    with client.session_transaction() as session:
        return session.get("_user_id")


def audit_actions() -> list[str]:
    """Every audit action so far, in order."""
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def login(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    """Post the sign-in form."""
    return client.post("/auth/login", data={"email": email, "password": password, **extra})


@pytest.fixture()
def ana(ctx: Flask) -> User:
    """A verified applicant with a known password."""
    user = make_user("applicant", email="ana@example.org", name="Ana Applicant", password=PASSWORD)
    user.email_verified_at = user.created_at
    db.session.commit()
    return user


def _other_app(database_url: str, clock: ManualClock, **config: Any) -> Flask:
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "KITAS_EMBEDDED_SCHEDULER": False,
            "WTF_CSRF_ENABLED": False,
            "KITAS_PAYMENT_WEBHOOK_SECRET": "test-webhook-secret",
            "KITAS_PUBLIC_URL": "http://kitas.test",
            **config,
        },
        clock=clock,
    )


@pytest.fixture()
def second_app(ctx: Flask, database_url: str, clock: ManualClock) -> Iterator[Flask]:
    """Another web process on the same database (its own engine, nothing shared in memory)."""
    other = _other_app(database_url, clock)
    yield other
    with other.app_context():
        db.engine.dispose()


# --- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/auth/login", "Sign in"),
        ("/auth/register", "Create an account"),
        ("/auth/forgot", "Forgot your password?"),
        ("/auth/verify/resend", "Send a new confirmation link"),
    ],
)
def test_account_pages_render(client: FlaskClient, path: str, words: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert words in text_of(response)


def test_register_page_offers_iso_countries_and_the_consent_text(client: FlaskClient) -> None:
    page = text_of(client.get("/auth/register"))
    assert '<option value="ID">Indonesia</option>' in page
    assert '<option value="TL">Timor-Leste</option>' in page
    assert "UU PDP" in page and 'name="consent"' in page
    assert 'value="verifier"' not in page and 'value="applicant"' in page and 'value="sponsor"' in page


# --- registration ---------------------------------------------------------------------------------


def test_register_answers_check_your_email_and_the_link_arrives_by_real_smtp(
    client: FlaskClient, smtp_server: list[Any]
) -> None:
    response = client.post("/auth/register", data=form())
    assert response.status_code == 200 and "We sent a message to maria@example.org" in text_of(response)
    user = db.session.scalars(select(User).where(User.email == "maria@example.org")).one()
    assert signed_in_user_id(client) is None  # signing in comes after confirming (the answer must not differ)
    assert user.consent_at is not None and user.role_names == {"applicant"}
    assert notifications.deliver_due() == 1
    [message] = smtp_server
    assert message["To"] == "maria@example.org"
    assert message["Subject"] == accounts.VERIFY_SUBJECT
    page = client.get(link_in(message))
    assert page.status_code == 200 and "is confirmed" in text_of(page)
    db.session.rollback()
    assert accounts.is_verified(db.session.get(User, user.id))  # type: ignore[arg-type]


BAD_FORMS = [
    ({"full_name": ""}, "full_name"),
    ({"email": "maria-at-example.org"}, "email"),
    ({"phone": "0812 3456 7890"}, "phone"),
    ({"phone": "+62 0812 3456 7890"}, "phone"),
    ({"nationality": None}, "nationality"),
    ({"nationality": "QQ"}, "nationality"),
    ({"kind": "supervisor"}, "kind"),
    ({"kind": None}, "kind"),
    ({"password": "letmein1", "password_confirm": "letmein1"}, "password"),
    ({"password": "Maria Silva 1", "password_confirm": "Maria Silva 1"}, "password"),
    ({"password": "2short", "password_confirm": "2short"}, "password"),
    ({"password_confirm": "tropical mango lantern 43"}, "password_confirm"),
    ({"consent": None}, "consent"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_FORMS, ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD_FORMS)])
def test_register_shows_each_error_next_to_its_field_and_keeps_the_input(
    client: FlaskClient, overrides: dict[str, Any], field: str
) -> None:
    data = form(**overrides)
    response = client.post("/auth/register", data=data)
    assert response.status_code == 422
    page = text_of(response)
    assert f'data-testid="error-{field}"' in page
    assert 'aria-invalid="true"' in page
    # The other input is kept...
    if field != "full_name":
        assert 'value="Maria Silva"' in page
    if field != "email":
        assert 'value="maria@example.org"' in page
    if field != "nationality":
        assert '<option value="BR" selected>' in page
    if field != "consent":
        assert re.search(r'name="consent" id="f-consent" value="1" checked', page)
    # ...but never a password.
    for secret in {data.get("password"), data.get("password_confirm")} - {None}:
        assert f'value="{secret}"' not in page and str(secret) not in page
    db.session.rollback()
    assert db.session.scalar(select(User.id)) is None


def test_common_password_is_refused_with_a_reason(client: FlaskClient) -> None:
    page = text_of(client.post("/auth/register", data=form(password="password123", password_confirm="password123")))
    assert "most commonly used" in page


def test_consent_is_required(client: FlaskClient) -> None:
    response = client.post("/auth/register", data=form(consent=None))
    assert response.status_code == 422
    assert "Tick the box to agree" in text_of(response)


def test_registration_does_not_tell_whether_the_address_has_an_account(
    client: FlaskClient, ana: User, smtp_server: list[Any]
) -> None:
    taken = client.post("/auth/register", data=form(email="ANA@example.org"))
    new = client.post("/auth/register", data=form(email="ANO@example.org"))
    assert taken.status_code == new.status_code == 200
    assert text_of(taken).replace("ana@example.org", "X") == text_of(new).replace("ano@example.org", "X")
    assert "already" not in text_of(taken).split("If you already have an account")[0]
    assert signed_in_user_id(client) is None
    db.session.rollback()
    assert db.session.get(User, ana.id).full_name == "Ana Applicant"  # type: ignore[union-attr]
    assert notifications.deliver_due() == 2
    owner, newcomer = sorted(smtp_server, key=lambda m: str(m["To"]))
    assert owner["To"] == "ana@example.org" and owner["Subject"] == accounts.REGISTERED_AGAIN_SUBJECT
    body = owner.get_content()
    assert "someone just tried to create a new KITAS Online account" in body
    assert "http://kitas.test/auth/login" in body and "http://kitas.test/auth/forgot" in body
    assert newcomer["To"] == "ano@example.org" and newcomer["Subject"] == accounts.VERIFY_SUBJECT


# --- signing in -----------------------------------------------------------------------------------


def test_login_starts_a_new_permanent_session(client: FlaskClient, ana: User) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = session_cookie(client)
    response = login(client, "ana@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert session_cookie(client) != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == ana.get_id()
        assert session.permanent
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Expires=" in set_cookie
    assert "Secure" not in set_cookie  # the test app's public URL is http


def _cookie_signed_ago(app: Flask, value: str, seconds: int) -> str:
    """The session cookie ``value`` signed again as if ``seconds`` ago (its signature carries the time)."""
    from itsdangerous import TimestampSigner

    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data = serializer.loads(value)

    class _Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    serializer.signer = _Then
    return str(serializer.dumps(data))


@pytest.mark.parametrize(("idle_minutes", "signed_in"), [(29, True), (31, False)])
def test_a_session_ends_after_30_idle_minutes(
    app: Flask, client: FlaskClient, ana: User, idle_minutes: int, signed_in: bool
) -> None:
    assert login(client, "ana@example.org").status_code == 302
    expires = client.get_cookie("session").expires  # type: ignore[union-attr]
    assert expires is not None and 29 * 60 < expires.timestamp() - time.time() <= 30 * 60
    value = session_cookie(client)
    assert value is not None
    client.set_cookie("session", _cookie_signed_ago(app, value, idle_minutes * 60))
    g.pop("_login_user", None)  # requests share the test's context, where Flask-Login caches the user
    response = client.get("/applications/")
    if signed_in:
        assert response.status_code == 200
    else:
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_wrong_password_and_unknown_email_get_the_same_answer(client: FlaskClient, ana: User) -> None:
    wrong = login(client, "ana@example.org", "not my password")
    unknown = login(client, "nobody@example.org", "not my password")
    assert wrong.status_code == unknown.status_code == 401
    message = accounts.GENERIC_LOGIN_ERROR
    assert message in text_of(wrong) and message in text_of(unknown)
    assert 'value="ana@example.org"' in text_of(wrong)  # the e-mail is kept, the password is not
    assert "not my password" not in text_of(wrong)
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "evil.example",
    ],
)
def test_next_only_accepts_local_paths(client: FlaskClient, ana: User, target: str) -> None:
    page = text_of(client.get("/auth/login", query_string={"next": target}))
    assert "evil.example" not in page
    response = login(client, "ana@example.org", next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_local_path_is_followed(client: FlaskClient, ana: User) -> None:
    protected = client.get("/auth/notifications")
    assert protected.status_code == 302
    assert protected.headers["Location"].startswith("/auth/login?next=")
    page = text_of(client.get(protected.headers["Location"]))
    assert 'name="next" value="/auth/notifications"' in page
    response = login(client, "ana@example.org", next="/auth/notifications")
    assert response.headers["Location"] == "/auth/notifications"
    assert client.get("/auth/login?next=/applications/").headers["Location"] == "/applications/"


def test_account_and_address_limit_says_when_to_retry(client: FlaskClient, ana: User, clock: ManualClock) -> None:
    for _ in range(5):
        assert login(client, "ana@example.org", "a wrong guess").status_code == 401
    throttled = login(client, "ana@example.org")  # even the right password waits
    assert throttled.status_code == 429
    page = text_of(throttled)
    assert "Too many failed sign-ins" in page and "WIB" in page and "in about 15 minutes" in page
    assert signed_in_user_id(client) is None
    clock.advance(minutes=15, seconds=1)
    assert login(client, "ana@example.org").status_code == 302


def test_limits_hold_across_two_app_instances(client: FlaskClient, second_app: Flask, ana: User) -> None:
    other = second_app.test_client()
    for _ in range(3):
        assert login(client, "ana@example.org", "a wrong guess").status_code == 401
    for _ in range(2):
        assert login(other, "ana@example.org", "a wrong guess").status_code == 401
    assert login(client, "ana@example.org").status_code == 429
    assert login(other, "ana@example.org").status_code == 429
    db.session.rollback()
    assert db.session.query(LoginAttempt).count() == 5


def test_address_limit_holds_across_two_app_instances(client: FlaskClient, second_app: Flask, ana: User) -> None:
    other = second_app.test_client()
    for number in range(10):
        login(client, f"guess{number}@example.org", "a wrong guess")
        login(other, f"other{number}@example.org", "a wrong guess")
    assert login(other, "ana@example.org").status_code == 429
    assert login(client, "ana@example.org").status_code == 429


def test_secure_cookie_flags_when_the_public_url_is_https(
    ctx: Flask, ana: User, database_url: str, clock: ManualClock
) -> None:
    secure_app = _other_app(
        database_url, clock, KITAS_PUBLIC_URL="https://kitas.example.go.id", KITAS_ALLOW_SANDBOX_PAYMENTS=True
    )
    try:
        assert secure_app.config["SESSION_COOKIE_SECURE"] is True
        response = login(secure_app.test_client(), "ana@example.org")
        assert response.status_code == 302
        set_cookie = response.headers["Set-Cookie"]
        assert "; Secure" in set_cookie and "; HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        with secure_app.app_context():
            db.engine.dispose()


def test_unverified_people_may_sign_in_and_are_reminded(client: FlaskClient) -> None:
    make_user("applicant", email="new@example.org", password=PASSWORD)
    response = login(client, "new@example.org")
    assert response.status_code == 302
    page = text_of(client.get("/auth/login", follow_redirects=True))
    assert "Please confirm your e-mail address" in page


def test_logout_ends_the_session_and_a_copied_cookie(client: FlaskClient, ana: User) -> None:
    login(client, "ana@example.org")
    copied = session_cookie(client)
    assert copied is not None
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    client.set_cookie("session", copied)  # someone kept the old cookie
    assert client.get("/auth/notifications").status_code == 302  # sent to the sign-in page


# --- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("csrf_on")
def test_posts_without_a_csrf_token_are_refused(client: FlaskClient, ana: User) -> None:
    refused = login(client, "ana@example.org")
    assert refused.status_code == 400 and "The form expired" in text_of(refused)
    assert signed_in_user_id(client) is None
    assert client.post("/auth/register", data=form()).status_code == 400
    assert client.post("/auth/forgot", data={"email": "ana@example.org"}).status_code == 400
    db.session.rollback()
    assert db.session.scalars(select(User.email)).all() == ["ana@example.org"]
    assert db.session.query(LoginAttempt).count() == 0


@pytest.mark.usefixtures("csrf_on")
def test_csrf_token_from_the_page_works_and_is_replaced_at_login(client: FlaskClient, ana: User) -> None:
    token = csrf_token(client, "/auth/login")
    response = login(client, "ana@example.org", csrf_token=token)
    assert response.status_code == 302
    # The anonymous session's token died with it; a logout forged with it is refused.
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 400
    assert signed_in_user_id(client) == ana.get_id()
    fresh = csrf_token(client, "/auth/notifications")
    assert client.post("/auth/logout", data={"csrf_token": fresh}).status_code == 302
    assert signed_in_user_id(client) is None


@pytest.mark.usefixtures("csrf_on")
def test_register_with_a_csrf_token(client: FlaskClient) -> None:
    token = csrf_token(client, "/auth/register")
    assert client.post("/auth/register", data=form(csrf_token=token)).status_code == 200


# --- e-mail confirmation --------------------------------------------------------------------------


def test_expired_link_offers_a_new_one_with_the_address_filled_in(
    client: FlaskClient, smtp_server: list[Any], clock: ManualClock
) -> None:
    client.post("/auth/register", data=form())
    notifications.deliver_due()
    path = link_in(smtp_server[0])
    clock.advance(hours=49)
    response = client.get(path)
    page = text_of(response)
    assert response.status_code == 400
    assert "more than 48 hours old" in page
    assert 'data-testid="resend-form"' in page and 'value="maria@example.org"' in page
    again = client.post("/auth/verify/resend", data={"email": "maria@example.org"})
    assert "we sent a new confirmation link" in text_of(again)
    notifications.deliver_due()
    assert client.get(link_in(smtp_server[1])).status_code == 200


def test_forged_link_gets_a_clear_page(client: FlaskClient) -> None:
    response = client.get("/auth/verify/eyJ1IjoxfQ.forged.signature")
    assert response.status_code == 400
    page = text_of(response)
    assert "damaged or not one of ours" in page and "Send a new link" in page


def test_resend_says_the_same_for_unknown_addresses(client: FlaskClient) -> None:
    client.post("/auth/register", data=form())
    client.post("/auth/logout", follow_redirects=True)
    known = text_of(client.post("/auth/verify/resend", data={"email": "maria@example.org"}))
    unknown = text_of(client.post("/auth/verify/resend", data={"email": "nobody@example.org"}))
    assert known.replace("maria@example.org", "X") == unknown.replace("nobody@example.org", "X")
    empty = client.post("/auth/verify/resend", data={"email": ""})
    assert empty.status_code == 422 and "Enter the e-mail address" in text_of(empty)


def test_signed_in_resend_needs_no_address_and_cannot_flood(client: FlaskClient) -> None:
    client.post("/auth/register", data=form())
    login(client, "maria@example.org")
    for _ in range(5):
        assert client.post("/auth/verify/resend").status_code == 200
    db.session.rollback()
    queued = db.session.query(Notification).filter(Notification.recipient == "maria@example.org").count()
    assert queued == accounts.MAIL_LIMIT  # the first link at registration, then two more


# --- password reset -------------------------------------------------------------------------------


def test_forgot_answers_the_same_whether_or_not_the_account_exists(client: FlaskClient, ana: User) -> None:
    known = text_of(client.post("/auth/forgot", data={"email": "ana@example.org"}))
    unknown = text_of(client.post("/auth/forgot", data={"email": "nobody@example.org"}))
    assert "If an account exists" in known
    assert known.replace("ana@example.org", "X") == unknown.replace("nobody@example.org", "X")
    db.session.rollback()
    # The same row for both: whom it reaches is found out when the outbox job writes it.
    rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.recipient, n.template, n.user_id, n.link) for n in rows] == [
        ("ana@example.org", "account.reset", None, None),
        ("nobody@example.org", "account.reset", None, None),
    ]
    empty = client.post("/auth/forgot", data={"email": "  "})
    assert empty.status_code == 422 and 'data-testid="error-email"' in text_of(empty)


def test_reset_by_real_smtp_works_once_and_ends_other_sessions(
    client: FlaskClient, app: Flask, ana: User, smtp_server: list[Any]
) -> None:
    laptop = app.test_client()
    login(laptop, "ana@example.org")
    assert laptop.get("/auth/notifications").status_code == 200
    client.post("/auth/forgot", data={"email": "ana@example.org"})
    assert notifications.deliver_due() == 1
    [message] = smtp_server
    assert message["Subject"] == accounts.RESET_SUBJECT
    path = link_in(message)
    form_page = client.get(path)
    assert form_page.status_code == 200 and "Choose a new password" in text_of(form_page)
    refused = client.post(path, data={"password": "iloveyou", "password_confirm": "iloveyou"})
    assert refused.status_code == 422 and 'data-testid="error-password"' in text_of(refused)
    done = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/auth/login"
    assert laptop.get("/auth/notifications").status_code == 302  # the other session ended
    assert login(client, "ana@example.org", PASSWORD).status_code == 401
    assert login(client, "ana@example.org", NEW_PASSWORD).status_code == 302
    reused = client.get(path)
    assert reused.status_code == 400 and "already used" in text_of(reused)
    assert client.post(path, data={"password": PASSWORD, "password_confirm": PASSWORD}).status_code == 400
    notifications.deliver_due()
    assert smtp_server[-1]["Subject"] == accounts.CHANGED_SUBJECT


def test_reset_mismatch_is_shown_on_the_confirmation_field(
    client: FlaskClient, ana: User, smtp_server: list[Any]
) -> None:
    client.post("/auth/forgot", data={"email": "ana@example.org"})
    notifications.deliver_due()
    link = link_in(smtp_server[0])
    response = client.post(link, data={"password": NEW_PASSWORD, "password_confirm": "something else"})
    assert response.status_code == 422 and 'data-testid="error-password_confirm"' in text_of(response)


def test_expired_or_forged_reset_links_offer_a_new_one(
    client: FlaskClient, ana: User, clock: ManualClock, smtp_server: list[Any]
) -> None:
    client.post("/auth/forgot", data={"email": "ana@example.org"})
    notifications.deliver_due()
    link = link_in(smtp_server[0])
    clock.advance(hours=1, minutes=1)
    expired = client.get(link)
    assert expired.status_code == 400 and "more than an hour old" in text_of(expired)
    assert 'href="/auth/forgot"' in text_of(expired)
    assert client.get("/auth/reset/forged-token").status_code == 400


# --- audit and messages ---------------------------------------------------------------------------


def test_every_authentication_event_is_audited_without_passwords(client: FlaskClient, smtp_server: list[Any]) -> None:
    client.post("/auth/register", data=form())
    notifications.deliver_due()
    client.get(link_in(smtp_server[0]))
    login(client, "maria@example.org", "a wrong guess")
    login(client, "maria@example.org")
    client.post("/auth/logout")
    client.post("/auth/forgot", data={"email": "maria@example.org"})
    notifications.deliver_due()
    path = link_in(smtp_server[-1])
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    for _ in range(6):
        login(client, "maria@example.org", "another wrong guess")
    actions = audit_actions()
    for action in (
        "register",
        "email_verified",
        "login_succeeded",
        "login_failed",
        "login_throttled",
        "logout",
        "password_reset_requested",
        "password_reset_done",
    ):
        assert action in actions, action
    events = db.session.scalars(select(AuditEvent)).all()
    details = str([event.detail for event in events])
    for secret in (PASSWORD, NEW_PASSWORD, "a wrong guess", "another wrong guess"):
        assert secret not in details
    assert all(event.detail.get("address") == "127.0.0.1" for event in events if event.action != "email_verified")
    assert all(event.occurred_at.utcoffset() is not None for event in events)


def test_in_app_messages_page(client: FlaskClient, ana: User) -> None:
    from kitas.transactions import write_transaction

    with write_transaction():
        notifications.notify(db.session.merge(ana), "Permit issued", "Your e-ITAS is ready.", link="/applications/")
    login(client, "ana@example.org")
    page = text_of(client.get("/auth/notifications"))
    assert "Permit issued" in page and "Your e-ITAS is ready." in page and "new" in page
    # Seeing the list marks nothing read: opening a message does (tests/web/test_notification_centre.py).
    assert all(message.read_at is None for message in notifications.recent_for(ana))
