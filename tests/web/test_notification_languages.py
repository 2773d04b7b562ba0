"""The notifications page and registration in the reader's language."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from forms.texts import Message
from kitas.extensions import app_clock, db
from kitas.models import Notification, User
from kitas.services import notifications
from kitas.services.cases import notices
from kitas.transactions import write_transaction
from tests.factories import make_user
from tests.web.pages import registration_form


def _page(client: FlaskClient) -> str:
    response = client.get("/auth/notifications")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_an_in_app_message_is_written_in_the_readers_language_when_shown(
    ctx: Flask, login_as: Callable[[Any], FlaskClient]
) -> None:
    user = make_user("applicant", email="siti@example.org", name="Siti Rahma", language="id")
    with write_transaction():
        reader = db.session.merge(user)
        notifications.notify(
            reader,
            Message("Your KITAS Online password was changed"),
            notifications.MailTemplate("email/password_changed.txt"),
            channels=("in_app",),
        )
        notifications.notify_text(
            reader,
            notices.STATUS_CHANGED,
            {"reference": "KITAS-2026-000001", "status": "awaiting_sponsor"},
            link="/applications/KITAS-2026-000001",
            channels=("in_app",),
        )
    client = login_as(user)
    page = _page(client)
    assert "Kata sandi KITAS Online Anda telah diubah" in page and "Yth. Siti Rahma," in page
    assert "Status permohonan Anda KITAS-2026-000001 kini:" in page
    # The same rows, read by the same person after switching to English.
    db.session.get(User, user.id).language = "en"  # type: ignore[union-attr]
    db.session.commit()
    g.pop("_flask_babel", None)  # requests share the test's application context, and Flask-Babel's cache in it
    page = _page(login_as(user))
    assert "Your KITAS Online password was changed" in page and "Hello Siti Rahma," in page
    assert "Your application KITAS-2026-000001 is now:" in page
    assert "Kata sandi" not in page


def test_a_message_stored_before_as_words_is_shown_as_it_was(
    ctx: Flask, login_as: Callable[[Any], FlaskClient]
) -> None:
    user = make_user("applicant", email="siti@example.org", language="id")
    now = app_clock().now() - timedelta(days=30)
    row = {
        "user_id": user.id,
        "channel": "in_app",
        "recipient": user.email,
        "subject": "KITAS-2025-000009: Approved",
        "body": "Your application KITAS-2025-000009 is now: Approved.",
        "created_at": now,
        "sent_at": now,
        "attempts": 0,
    }
    db.session.execute(insert(Notification.__table__), [row])
    db.session.commit()
    page = _page(login_as(user))
    assert "KITAS-2025-000009: Approved" in page and "Your application KITAS-2025-000009 is now: Approved." in page


def test_registering_in_indonesian_keeps_the_language_and_the_link_arrives_in_it(
    client: FlaskClient, smtp_server: list[Any]
) -> None:
    form = registration_form(full_name="Siti Rahma", email="siti@example.org", nationality="ID")
    assert client.post("/auth/register", data=form, headers={"Accept-Language": "id"}).status_code == 200
    user = db.session.scalars(select(User).where(User.email == "siti@example.org")).one()
    assert user.language == "id"
    db.session.rollback()
    assert notifications.deliver_due() == 1
    [message] = smtp_server
    assert message["Subject"] == "Konfirmasi alamat e-mail Anda untuk KITAS Online"
    assert "Yth. Siti Rahma," in message.get_content()


def test_registering_in_english_keeps_english(client: FlaskClient) -> None:
    form = registration_form()
    assert client.post("/auth/register", data=form).status_code == 200
    assert db.session.scalars(select(User.language).where(User.email == "maria@example.org")).one() == "en"
