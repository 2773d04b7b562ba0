"""The notification outbox: rows written in the caller's transaction, sent later by the scheduler.

``notify`` only adds rows, so a rolled-back use case sends nothing. ``deliver_due``
works through the due e-mail and SMS rows with the one lease mechanism
(``kitas.services.leases``, policy ``notification``): each row is claimed, sent
outside any transaction, then recorded as sent, retried later with a growing delay,
or given up. Delivery is at least once: a scheduler that dies after sending but
before recording sends that message again after the lease.

``queue_for_address`` writes an e-mail row before anyone knows whom it reaches: a
request for a reset link queues the same row whether or not the address has an
account, and the renderer registered under the row's ``template`` decides when the
row is sent what (if anything) the message says. So the request does the same work
either way, and only the scheduler learns whether the account exists.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
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
    Notification.template,
    Notification.created_at,
)


@dataclass(frozen=True)
class RenderedMail:
    """What a template renderer made of a queued row: the subject, the text and an optional site link."""

    subject: str
    text: str
    link: str | None = None


# (recipient address, the row's parameters, when the row was queued) -> the mail, or None: nothing to send.
Renderer = Callable[[str, dict[str, Any], datetime], RenderedMail | None]
_RENDERERS: dict[str, Renderer] = {}


def register_renderer(name: str, renderer: Renderer) -> None:
    """Make ``renderer`` write the rows queued under ``name`` (capabilities register theirs at import)."""
    if len(name) > 40:
        raise ValueError(f"a template name has at most 40 characters: {name!r}")
    _RENDERERS[name] = renderer


def queue_for_address(template: str, recipient: str, params: dict[str, Any], *, cap: int, since: datetime) -> bool:
    """Queue one e-mail to ``recipient`` written later by ``template``'s renderer, inside the caller's
    transaction, unless ``cap`` rows of that template were queued to that address since ``since``.

    The work is the same whatever the address: one count and (under the cap) one insert, no account
    looked up and nothing rendered. Returns True when a row was queued.
    """
    if template not in _RENDERERS:
        raise ValueError(f"no renderer is registered for {template!r}")
    if queued_recently(recipient, template, since) >= cap:
        return False
    now = app_clock().now()
    row = {
        "user_id": None,
        "channel": "email",
        "recipient": recipient[:254],
        "subject": template,
        "body": json.dumps(params, sort_keys=True),
        "template": template,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
    }
    db.session.execute(insert(Notification.__table__), [row])
    return True


def queued_recently(recipient: str, template: str, since: datetime) -> int:
    """How many rows of ``template`` were queued to ``recipient`` since ``since``."""
    return int(
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.recipient == recipient[:254],
                Notification.template == template,
                Notification.created_at >= since,
            )
        )
        or 0
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
    a phone number gets no SMS row. News of a case (``application_id``) skips the e-mail and SMS
    channels a person turned off on their profile; account messages (security) always go.
    """
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown notification channel(s): {', '.join(sorted(unknown))}")
    now = app_clock().now()
    rows: list[dict[str, Any]] = []
    for channel in dict.fromkeys(channels):  # keep the order, drop repeats
        if application_id is not None and not _wanted(user, channel):
            continue
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


def _wanted(user: User, channel: str) -> bool:
    """Whether the person receives case news on ``channel`` (in-app always)."""
    if channel == "email":
        return user.notify_email is not False
    if channel == "sms":
        return user.notify_sms is not False
    return True


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


def _render(row: Row[Any]) -> OutgoingMail | None:
    """The mail of a templated row, written now by its renderer; None when there is nothing to send."""
    renderer = _RENDERERS.get(row.template)
    if renderer is None:
        raise leases.AttemptFailed(f"no renderer is registered for {row.template!r}")
    mail = renderer(row.recipient, json.loads(row.body or "{}"), row.created_at)
    if mail is None:
        return None
    link = absolute_link(mail.link)
    text = f"{mail.text.rstrip()}\n\n{link}\n" if link and link not in mail.text else mail.text
    return OutgoingMail(to=row.recipient, subject=mail.subject, text=text)


def _send(row: Row[Any], mailer: Mailer, sms: SmsSender) -> None:
    """Send one claimed row (a snapshot of its columns: no transaction is open meanwhile)."""
    if row.template:
        mail = _render(row)
        db.session.rollback()  # what the renderer read is not held open while the mail goes out
        if mail is not None:
            mailer.send(replace(mail, message_key=f"kitas-notification-{row.id}"))
    elif row.channel == "email":
        mail = OutgoingMail(row.recipient, row.subject, _email_text(row), message_key=f"kitas-notification-{row.id}")
        mailer.send(mail)
    else:
        sms.send(row.recipient, _sms_text(row))


def deliver_due(mailer: Mailer | None = None, sms: SmsSender | None = None, owner: str | None = None) -> int:
    """Send every due e-mail and SMS of the outbox; returns how many were attempted (sent or failed)."""
    mailer = mailer if mailer is not None else mailer_from_config(current_app.config)
    sms = sms if sms is not None else sms_sender_from_config(current_app.config)
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
