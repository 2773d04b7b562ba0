"""The notification outbox: rows written in the caller's transaction, sent later by the scheduler.

``notify`` only adds rows, so a rolled-back use case sends nothing. ``deliver_due``
claims due e-mail and SMS rows with a short lease (on PostgreSQL with
``FOR UPDATE SKIP LOCKED``, so several schedulers never take the same row),
sends each one outside any transaction, then records the outcome: sent, or
retried later with a growing delay. Delivery is at least once: a scheduler that
dies after sending but before recording sends that message again after the lease.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ...adapters.mail import Mailer, OutgoingMail, mailer_from_config
from ...adapters.sms import SmsSender, sms_sender_from_config
from ...extensions import app_clock, db
from ...models import Notification, User
from ...transactions import is_postgres, write_transaction

log = logging.getLogger(__name__)

CHANNELS = ("in_app", "email", "sms")
OUTBOX_CHANNELS = ("email", "sms")
# A claimed row is left alone by other schedulers for this long (longer than any SMTP timeout).
LEASE = timedelta(minutes=5)
# After a failure: 1, 2, 4 ... minutes, at most 6 hours apart; after MAX_ATTEMPTS the row is given up.
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 10
BATCH = 50


def notify(
    user: User,
    subject: str,
    body: str,
    *,
    link: str | None = None,
    application_id: int | None = None,
    channels: Sequence[str] = ("in_app", "email"),
) -> list[Notification]:
    """Add one outbox row per channel inside the caller's transaction (nothing is sent here).

    ``link`` is a path of this site (``/applicant/...``) or an absolute URL; e-mails
    and SMS carry it as an absolute URL under ``KITAS_PUBLIC_URL``. A person without
    a phone number gets no SMS row.
    """
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown notification channel(s): {', '.join(sorted(unknown))}")
    now = app_clock().now()
    rows: list[Notification] = []
    for channel in dict.fromkeys(channels):  # keep the order, drop repeats
        recipient = user.phone if channel == "sms" else user.email
        if not recipient:
            log.info("user %s has no %s address; that notification is skipped", user.id, channel)
            continue
        row = Notification(
            user_id=user.id,
            application_id=application_id,
            channel=channel,
            recipient=recipient,
            subject=subject[:200],
            body=body,
            link=link,
            created_at=now,
            attempts=0,
            # An in-app message is delivered by being written; the outbox channels wait for the scheduler.
            sent_at=now if channel == "in_app" else None,
            next_attempt_at=None if channel == "in_app" else now,
        )
        db.session.add(row)
        rows.append(row)
    return rows


def absolute_link(link: str | None) -> str | None:
    """``link`` as an absolute URL under ``KITAS_PUBLIC_URL`` (absolute URLs are kept)."""
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    return str(current_app.config["KITAS_PUBLIC_URL"]).rstrip("/") + "/" + link.lstrip("/")


def _email_text(row: Notification) -> str:
    link = absolute_link(row.link)
    return f"{row.body.rstrip()}\n\n{link}\n" if link and link not in row.body else row.body


def _sms_text(row: Notification) -> str:
    link = absolute_link(row.link)
    text = f"KITAS Online: {row.subject}"
    return f"{text} {link}" if link else text


def _claim(now: datetime, limit: int) -> list[int]:
    with write_transaction():
        query = (
            select(Notification)
            .where(
                Notification.sent_at.is_(None),
                Notification.channel.in_(OUTBOX_CHANNELS),
                Notification.next_attempt_at <= now,
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
        if is_postgres():
            query = query.with_for_update(skip_locked=True)
        rows = db.session.scalars(query).all()
        for row in rows:
            row.next_attempt_at = now + LEASE
        return [row.id for row in rows]


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


def _prepare(row: Notification) -> tuple[str, str, str, str]:
    """(channel, recipient, subject, text) of a row, read while its transaction is still open."""
    text = _email_text(row) if row.channel == "email" else _sms_text(row)
    return row.channel, row.recipient, row.subject, text


def _send(message: tuple[str, str, str, str], mailer: Mailer, sms: SmsSender) -> None:
    channel, recipient, subject, text = message
    if channel == "email":
        mailer.send(OutgoingMail(to=recipient, subject=subject, text=text))
    else:
        sms.send(recipient, text)


def _record(row_id: int, error: str | None) -> None:
    now = app_clock().now()
    with write_transaction():
        row = db.session.get(Notification, row_id, populate_existing=True)
        if row is None or row.sent_at is not None:
            return
        row.attempts += 1
        if error is None:
            row.sent_at, row.next_attempt_at, row.last_error = now, None, None
            return
        row.last_error = error[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            # Given up: left unsent with its last error for an administrator to see.
            row.next_attempt_at = None
            log.error("notification %s given up after %d attempts: %s", row_id, row.attempts, error)
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)


def deliver_due(mailer: Mailer | None = None, sms: SmsSender | None = None) -> int:
    """Send every due e-mail and SMS of the outbox; returns how many were attempted (sent or failed)."""
    mailer = mailer or mailer_from_config(current_app.config)
    sms = sms or sms_sender_from_config(current_app.config)
    handled = 0
    while True:
        claimed = _claim(app_clock().now(), BATCH)
        if not claimed:
            return handled
        for row_id in claimed:
            row = db.session.get(Notification, row_id, populate_existing=True)
            message = _prepare(row) if row is not None else None
            db.session.rollback()  # no transaction stays open during the (slow) send
            if message is None:
                continue
            try:
                _send(message, mailer, sms)
            except Exception as exc:  # any failure of the provider is retried later, never lost
                log.warning("sending notification %s (%s) failed: %s", row_id, message[0], exc)
                _record(row_id, f"{exc.__class__.__name__}: {exc}")
            else:
                _record(row_id, None)
            handled += 1


def unread_for(user: User, limit: int = 20) -> list[Notification]:
    """The user's unread in-app messages, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.channel == "in_app", Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def recent_for(user: User, limit: int = 50) -> list[Notification]:
    """The user's in-app messages, read or not, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.channel == "in_app")
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User) -> int:
    """Mark every unread in-app message of ``user`` as read; returns how many."""
    now = app_clock().now()
    with write_transaction():
        result = db.session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.channel == "in_app", Notification.read_at.is_(None))
            .values(read_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def sent_recently(user: User, subject: str, since: datetime) -> int:
    """How many e-mails with ``subject`` were queued for ``user`` since ``since`` (to cap resends)."""
    return int(
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id,
                Notification.channel == "email",
                Notification.subject == subject,
                Notification.created_at >= since,
            )
        )
        or 0
    )
