"""The notification outbox: rows written in the caller's transaction, sent later by the scheduler.

``notify`` only adds rows, so a rolled-back use case sends nothing. ``deliver_due``
works through the due e-mail and SMS rows with the one lease mechanism
(``kitas.services.leases``, policy ``notification``): each row is claimed, sent
outside any transaction, then recorded as sent, retried later with a growing delay,
or given up. Delivery is at least once: a scheduler that dies after sending but
before recording sends that message again after the lease.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row, func, insert, select, update

from ...adapters.mail import Mailer, OutgoingMail, mailer_from_config
from ...adapters.sms import SmsSender, sms_sender_from_config
from ...extensions import app_clock, db
from ...models import Notification, User
from ...transactions import write_transaction
from .. import leases
from ..public_address import absolute

log = logging.getLogger(__name__)

CHANNELS = ("in_app", "email", "sms")
OUTBOX_CHANNELS = ("email", "sms")
BATCH = 50
# Unsent e-mail and SMS rows; a claimed row is left alone for five minutes (longer than any SMTP timeout).
OUTBOX = leases.Queue(
    kind=leases.KINDS["notification"],
    ready=Notification.sent_at.is_(None) & Notification.channel.in_(OUTBOX_CHANNELS),
    due_at=Notification.next_attempt_at,
    lease=timedelta(minutes=5),
    done_at=Notification.sent_at,
)
_MESSAGE_COLUMNS = (
    Notification.channel,
    Notification.recipient,
    Notification.subject,
    Notification.body,
    Notification.link,
)


def notify(
    user: User,
    subject: str,
    body: str,
    *,
    link: str | None = None,
    application_id: int | None = None,
    channels: Sequence[str] = ("in_app", "email"),
) -> int:
    """Add one outbox row per channel inside the caller's transaction (nothing is sent here); returns how many.

    ``link`` is a path of this site (``/applicant/...``) or an absolute URL; e-mails
    and SMS carry it as an absolute URL under the public address when they are sent. A person without
    a phone number gets no SMS row.
    """
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown notification channel(s): {', '.join(sorted(unknown))}")
    now = app_clock().now()
    rows: list[dict[str, Any]] = []
    for channel in dict.fromkeys(channels):  # keep the order, drop repeats
        recipient = user.phone if channel == "sms" else user.email
        if not recipient:
            log.info("user %s has no %s address; that notification is skipped", user.id, channel)
            continue
        rows.append(
            {
                "user_id": user.id,
                "application_id": application_id,
                "channel": channel,
                "recipient": recipient,
                "subject": subject[:200],
                "body": body,
                "link": link,
                "created_at": now,
                "attempts": 0,
                # An in-app message is delivered by being written; the outbox channels wait for the scheduler.
                "sent_at": now if channel == "in_app" else None,
                "next_attempt_at": None if channel == "in_app" else now,
            }
        )
    if rows:  # one statement for all channels: this runs inside every step that changes a status
        db.session.execute(insert(Notification.__table__), rows)
    return len(rows)


def absolute_link(link: str | None) -> str | None:
    """``link`` as an absolute URL: a path of this site under its current public address; others kept."""
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    return absolute(link)


def _email_text(row: Any) -> str:
    link = absolute_link(row.link)
    return f"{row.body.rstrip()}\n\n{link}\n" if link and link not in row.body else str(row.body)


def _sms_text(row: Any) -> str:
    link = absolute_link(row.link)
    text = f"KITAS Online: {row.subject}"
    return f"{text} {link}" if link else text


def _send(row: Row[Any], mailer: Mailer, sms: SmsSender) -> None:
    """Send one claimed row (a snapshot of its columns: no transaction is open meanwhile)."""
    if row.channel == "email":
        mail = OutgoingMail(row.recipient, row.subject, _email_text(row), message_key=f"kitas-notification-{row.id}")
        mailer.send(mail)
    else:
        sms.send(row.recipient, _sms_text(row))


def deliver_due(mailer: Mailer | None = None, sms: SmsSender | None = None, owner: str | None = None) -> int:
    """Send every due e-mail and SMS of the outbox; returns how many were attempted (sent or failed)."""
    mailer = mailer or mailer_from_config(current_app.config)
    sms = sms or sms_sender_from_config(current_app.config)
    attempts = leases.work_through(
        OUTBOX,
        owner or leases.scheduler_id(),
        lambda row: _send(row, mailer, sms),
        BATCH,
        columns=_MESSAGE_COLUMNS,
    )
    return len(attempts)


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
