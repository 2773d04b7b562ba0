"""The notification centre: the bell's unread count on every page, the list (read and unread, a link
to each case, mark all read, pages), and nobody else's messages."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from engine import ManualClock
from forms.texts import Message
from kitas.extensions import db
from kitas.models import Notification, User
from kitas.services import notifications
from kitas.transactions import write_transaction


def _tell(user: User, count: int, clock: ManualClock, link: str = "/applications/KT-1") -> list[int]:
    with write_transaction():
        reader = db.session.merge(user)
        for _ in range(count):
            clock.advance(seconds=1)
            notifications.notify(
                reader, Message("Permit issued"), Message("Your e-ITAS is ready."), link=link, channels=("in_app",)
            )
    ids = db.session.scalars(
        select(Notification.id).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()
    return list(ids)[-count:]


def _page(client: FlaskClient, path: str = "/auth/notifications", **kwargs: Any) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _bell(page: str) -> str:
    match = re.search(r'<a [^>]*data-testid="bell"[^>]*>.*?</a>', page, re.S)
    assert match, "no bell in the top bar"
    return match.group(0)


@pytest.fixture()
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def test_the_bell_counts_unread_messages_for_eyes_and_screen_readers(
    users: dict[str, Any], login_as: Callable[[Any], FlaskClient], clock: ManualClock
) -> None:
    client = login_as(users["applicant"])
    bell = _bell(_page(client, "/types"))
    assert 'aria-label="Notifications"' in bell and "bell-count" not in bell and 'href="/auth/notifications"' in bell
    _tell(users["applicant"], 3, clock)
    _tell(users["other_applicant"], 2, clock)
    bell = _bell(_page(client, "/types"))
    assert 'aria-label="Notifications, 3 unread"' in bell
    assert re.search(r'data-testid="bell-count">3<', bell)
    db.session.merge(users["applicant"]).language = "id"  # the signed-in person's own language
    db.session.commit()
    indonesian = _bell(_page(client, "/types"))
    assert 'aria-label="Notifikasi, 3 belum dibaca"' in indonesian


def test_the_bell_costs_one_count_per_page(
    users: dict[str, Any], login_as: Callable[[Any], FlaskClient], clock: ManualClock, statements: list[str]
) -> None:
    _tell(users["applicant"], 2, clock)
    client = login_as(users["applicant"])
    for path in ("/types", "/auth/notifications"):
        statements.clear()
        _page(client, path)
        counts = [s for s in statements if "count(" in s.lower() and "read_at IS NULL" in s]
        assert len(counts) == 1, (path, counts)


def test_the_list_shows_read_and_unread_and_links_to_the_case(
    users: dict[str, Any], login_as: Callable[[Any], FlaskClient], clock: ManualClock
) -> None:
    first, second = _tell(users["applicant"], 2, clock)
    client = login_as(users["applicant"])
    page = _page(client)
    assert "<title>Notifications · KITAS Online</title>" in page and "Messages" not in page
    assert page.count('data-state="unread"') == 2 and "Your e-ITAS is ready." in page
    assert f'href="/auth/notifications/{first}"' in page
    opened = client.get(f"/auth/notifications/{first}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/applications/KT-1"
    assert db.session.get(Notification, first).read_at == clock.now()
    assert db.session.get(Notification, second).read_at is None
    page = _page(client)
    assert page.count('data-state="unread"') == 1 and page.count('data-state="read"') == 1
    assert 'aria-label="Notifications, 1 unread"' in _bell(page)


def test_mark_all_read(users: dict[str, Any], login_as: Callable[[Any], FlaskClient], clock: ManualClock) -> None:
    _tell(users["applicant"], 3, clock)
    theirs = _tell(users["other_applicant"], 1, clock)
    client = login_as(users["applicant"])
    assert 'data-testid="mark-all-read"' in _page(client)
    response = client.post("/auth/notifications/read", follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "All notifications are marked as read." in page and 'data-state="unread"' not in page
    assert 'data-testid="mark-all-read"' not in page and "bell-count" not in _bell(page)
    assert db.session.get(Notification, theirs[0]).read_at is None  # another person's stay unread


def test_another_persons_notification_is_never_shown_or_marked(
    users: dict[str, Any], login_as: Callable[[Any], FlaskClient], clock: ManualClock
) -> None:
    [theirs] = _tell(users["other_applicant"], 1, clock, link="/applications/KT-OTTO")
    client = login_as(users["applicant"])
    assert "KT-OTTO" not in _page(client) and f"/auth/notifications/{theirs}" not in _page(client)
    assert client.get(f"/auth/notifications/{theirs}").status_code == 404
    assert client.get("/auth/notifications/999999").status_code == 404
    assert db.session.get(Notification, theirs).read_at is None


def test_the_list_is_paged(users: dict[str, Any], login_as: Callable[[Any], FlaskClient], clock: ManualClock) -> None:
    ids = _tell(users["applicant"], 23, clock)
    client = login_as(users["applicant"])
    first = _page(client)
    assert first.count('data-testid="notification"') == 20 and "Page 1 of 2 (23 in all)" in first
    assert f"/auth/notifications/{ids[-1]}" in first and f'/auth/notifications/{ids[0]}"' not in first  # newest first
    second = _page(client, "/auth/notifications?page=2")
    assert second.count('data-testid="notification"') == 3 and f'/auth/notifications/{ids[0]}"' in second
    assert _page(client, "/auth/notifications?page=-4").count('data-testid="notification"') == 20


def test_the_list_in_indonesian(users: dict[str, Any], login_as: Callable[[Any], FlaskClient]) -> None:
    db.session.merge(users["applicant"]).language = "id"
    db.session.commit()
    client = login_as(users["applicant"])
    page = _page(client)
    assert "<title>Notifikasi · KITAS Online</title>" in page and "Belum ada notifikasi." in page
