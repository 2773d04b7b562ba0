"""The profile pages: reached from the name in the top bar, each form keeping what was typed with the
message next to its field, CSRF on, and the personal-data rights (export, deletion)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from kitas.adapters.mail import OutgoingMail
from kitas.extensions import db
from kitas.models import Application, User
from kitas.services import cases, notifications
from kitas.services.accounts import passwords
from tests.factories import make_user

PASSWORD = "tropical mango lantern 42"
NEW_PASSWORD = "quiet harbour violin 77"


class _SentMails(list[OutgoingMail]):
    def send(self, mail: OutgoingMail) -> None:
        self.append(mail)


def outbox() -> list[OutgoingMail]:
    db.session.rollback()
    sent = g.setdefault("profile_page_mails", _SentMails())
    notifications.deliver_due(mailer=sent)
    return list(sent)


@pytest.fixture()
def maria(ctx: Any) -> User:
    return make_user("applicant", email="maria@example.org", name="Maria Silva", password=PASSWORD, confirmed=True)


@pytest.fixture()
def signed_in(maria: User, login_as: Callable[[Any], FlaskClient]) -> FlaskClient:
    return login_as(maria)


def fresh(user_id: int) -> User:
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def details(**overrides: str) -> dict[str, str]:
    form = {"full_name": "Maria Silva", "phone": "", "language": "en", "time_zone": "Asia/Jakarta", "notify_email": "1"}
    form.update(overrides)
    return form


def test_the_name_in_the_top_bar_opens_the_profile(signed_in: FlaskClient) -> None:
    page = signed_in.get("/types").get_data(as_text=True)
    assert re.search(
        r'<a class="nav-link me-3" href="/auth/profile" data-testid="signed-in-as"[^>]*>Maria Silva</a>', page
    )
    profile = signed_in.get("/auth/profile")
    assert profile.status_code == 200 and "My details and settings" in profile.get_data(as_text=True)


def test_the_profile_needs_a_signed_in_person(client: FlaskClient) -> None:
    assert client.get("/auth/profile").status_code == 302


def test_details_are_saved_and_a_bad_phone_keeps_what_was_typed(signed_in: FlaskClient, maria: User) -> None:
    bad = signed_in.post("/auth/profile", data=details(full_name="Maria da Silva", phone="0812 3456 7890"))
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'data-testid="error-phone"' in page and "Start with +" in page
    assert 'value="Maria da Silva"' in page and 'value="0812 3456 7890"' in page
    assert fresh(maria.id).full_name == "Maria Silva"
    good = signed_in.post(
        "/auth/profile",
        data=details(full_name="Maria da Silva", phone="+62 812 3456 7890", language="id", time_zone="Asia/Jayapura"),
    )
    assert good.status_code == 302
    user = fresh(maria.id)
    assert (user.full_name, user.phone, user.language, user.time_zone) == (
        "Maria da Silva",
        "+6281234567890",
        "id",
        "Asia/Jayapura",
    )
    assert (user.notify_email, user.notify_sms) == (True, False)
    # Her language and zone now speak on every page: Indonesian, Eastern Indonesian Time.
    g.pop("_login_user", None)
    g.pop("_flask_babel", None)  # requests share the test's context, and Flask-Babel keeps its choice there
    page = signed_in.get("/auth/profile").get_data(as_text=True)
    assert "Profil saya" in page and "(WIT)" in page


def test_an_email_change_is_confirmed_by_the_link_and_refused_when_taken(signed_in: FlaskClient, maria: User) -> None:
    make_user("applicant", email="otto@example.org", name="Otto Other")
    taken = signed_in.post("/auth/profile/email", data={"email": "otto@example.org", "current_password": PASSWORD})
    page = taken.get_data(as_text=True)
    assert taken.status_code == 422 and 'data-testid="error-email"' in page and 'value="otto@example.org"' in page
    wrong = signed_in.post("/auth/profile/email", data={"email": "new@example.org", "current_password": "nope"})
    assert wrong.status_code == 422 and 'data-testid="error-current_password"' in wrong.get_data(as_text=True)
    asked = signed_in.post("/auth/profile/email", data={"email": "new@example.org", "current_password": PASSWORD})
    assert asked.status_code == 302
    assert 'data-testid="pending-email"' in signed_in.get("/auth/profile").get_data(as_text=True)
    [mail] = outbox()
    [link] = re.findall(r"http://kitas\.test(/auth/profile/email/\S+)", mail.text)
    opened = signed_in.get(link)
    assert opened.status_code == 200 and "new@example.org" in opened.get_data(as_text=True)
    assert fresh(maria.id).email == "new@example.org"
    again = signed_in.get(link)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_a_password_change_keeps_this_session_and_ends_the_others(
    signed_in: FlaskClient, maria: User, app: Any
) -> None:
    other = app.test_client()
    with other.session_transaction() as session:
        session["_user_id"] = maria.get_id()
    assert other.get("/auth/profile").status_code == 200
    weak = signed_in.post(
        "/auth/profile/password",
        data={"current_password": PASSWORD, "password": "password123", "password_confirm": "password123"},
    )
    page = weak.get_data(as_text=True)
    assert weak.status_code == 422 and 'data-testid="error-password"' in page and "password123" not in page
    wrong = signed_in.post(
        "/auth/profile/password",
        data={"current_password": "wrong", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and 'data-testid="error-current_password"' in wrong.get_data(as_text=True)
    done = signed_in.post(
        "/auth/profile/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.status_code == 302
    g.pop("_login_user", None)
    assert signed_in.get("/auth/profile").status_code == 200  # this session goes on
    g.pop("_login_user", None)
    assert other.get("/auth/profile").status_code == 302  # the other one ended
    assert passwords.verify_password(fresh(maria.id).password_hash, NEW_PASSWORD)


def test_the_forms_need_the_csrf_token(signed_in: FlaskClient, maria: User, csrf_on: None) -> None:
    refused = signed_in.post("/auth/profile", data=details(full_name="Someone Else"))
    assert refused.status_code == 400 and fresh(maria.id).full_name == "Maria Silva"
    page = signed_in.get("/auth/profile").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 5  # the top bar's two forms and the profile's three


def test_my_data_downloads_as_json(signed_in: FlaskClient, maria: User) -> None:
    response = signed_in.get("/auth/profile/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "maria@example.org" and data["applications"] == []


def test_deletion_is_refused_with_an_open_case_then_done(signed_in: FlaskClient, maria: User, worker: int) -> None:
    application = cases.start_case("worker", maria)
    page = signed_in.get("/auth/profile/delete").get_data(as_text=True)
    assert 'data-testid="erasure-refused"' in page and application.reference in page
    refused = signed_in.post("/auth/profile/delete", data={"current_password": PASSWORD})
    assert refused.status_code == 409 and "immigration office" in refused.get_data(as_text=True)
    row = db.session.get(Application, application.id)
    assert row is not None
    row.closed_at = row.created_at  # decided (the service tests walk a case to its permit)
    db.session.commit()
    wrong = signed_in.post("/auth/profile/delete", data={"current_password": "nope"})
    assert wrong.status_code == 422 and 'data-testid="error-current_password"' in wrong.get_data(as_text=True)
    done = signed_in.post("/auth/profile/delete", data={"current_password": PASSWORD})
    assert done.status_code == 200 and 'data-testid="account-deleted"' in done.get_data(as_text=True)
    assert fresh(maria.id).erased_at is not None
    g.pop("_login_user", None)
    assert signed_in.get("/auth/profile").status_code == 302
    assert db.session.scalars(select(User).where(User.email == "maria@example.org")).first() is None


def test_the_profile_reads_in_indonesian(ctx: Any, login_as: Callable[[Any], FlaskClient]) -> None:
    budi = make_user("applicant", email="budi@example.org", name="Budi Santoso", password=PASSWORD, language="id")
    client = login_as(budi)
    page = client.get("/auth/profile").get_data(as_text=True)
    for text in ("Profil saya", "Unduh data saya (JSON)", "Kata sandi saat ini", "Simpan data saya"):
        assert text in page, text
    bad = client.post(
        "/auth/profile/password",
        data={"current_password": "x", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert "Ini bukan kata sandi Anda saat ini" in bad.get_data(as_text=True)
