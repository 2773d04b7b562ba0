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

Every message is written in its reader's language (``texts``): a row keeps a template name and its
parameters, an e-mail or SMS is written when it is sent (in the recipient's language and zone), an
in-app message when the notifications page shows it (in the reader's). Rows written before that
(no template) keep their frozen words and are shown as they are.
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

from forms.texts import Message

from ...adapters.mail import Mailer, OutgoingMail, mailer_from_config
from ...adapters.sms import SmsSender, sms_sender_from_config
from ...extensions import app_clock, db
from ...models import Notification, User
from ...transactions import write_transaction
from .. import leases
from ..errors import NotFound
from ..paging import Page, page_bounds
from ..public_address import absolute
from .texts import (
    MailTemplate,
    Notice,
    Writer,
    current_language,
    decode,
    encode,
    in_language_of,
    in_source_language,
    localized,
    written,
)

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
    Notification.user_id,
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
# The renderer finds the account, so it writes the mail in the account's language (``in_language_of``).
Renderer = Callable[[str, dict[str, Any], datetime], RenderedMail | None]
_RENDERERS: dict[str, Renderer] = {}
# The texts of notifications to a known person (``notify_text``), by name.
_WRITERS: dict[str, Writer] = {}
# The template of a row whose subject and body are kept whole (Messages, a MailTemplate) by ``notify``.
MESSAGE = "message"


def register_renderer(name: str, renderer: Renderer) -> None:
    """Make ``renderer`` write the rows queued under ``name`` (capabilities register theirs at import)."""
    if len(name) > 40:
        raise ValueError(f"a template name has at most 40 characters: {name!r}")
    _RENDERERS[name] = renderer


def register_text(name: str, writer: Writer) -> None:
    """Make ``writer`` say what the rows ``notify_text`` queues under ``name`` say (registered at import)."""
    if len(name) > 40 or name == MESSAGE:
        raise ValueError(f"a text's name has at most 40 characters and is not {MESSAGE!r}: {name!r}")
    _WRITERS[name] = writer


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
    body: str | MailTemplate,
    *,
    link: str | None = None,
    application_id: int | None = None,
    channels: Sequence[str] = ("in_app", "email"),
) -> int:
    """Add one outbox row per channel inside the caller's transaction (nothing is sent here); returns how many.

    ``subject`` is a Message (``body`` a Message or a MailTemplate), kept as such and written in the
    reader's language when it is sent or shown; plain strings are words that need no translation.
    ``link`` is a path of this site (``/applicant/...``) or an absolute URL; e-mails and SMS carry it
    as an absolute URL under the public address when they are sent. A person without a phone number
    gets no SMS row.
    News of a case (``application_id``) skips the e-mail and SMS channels a person turned off on their
    profile; account messages (security) always go.
    """
    if isinstance(subject, Message) or not isinstance(body, str) or isinstance(body, Message):
        params = {"subject": encode(subject), "body": encode(body)}
        return _queue(user, str(subject), json.dumps(params, sort_keys=True), MESSAGE, link, application_id, channels)
    return _queue(user, subject, body, None, link, application_id, channels)


def notify_text(
    user: User,
    name: str,
    params: dict[str, Any],
    *,
    link: str | None = None,
    application_id: int | None = None,
    channels: Sequence[str] = ("in_app", "email"),
) -> int:
    """Like ``notify``, for a text registered under ``name`` (``register_text``): the rows keep ``params``
    (JSON), and the writer says the words in the reader's language when the message is sent or shown."""
    writer = _WRITERS.get(name)
    if writer is None:
        raise ValueError(f"no text is registered for {name!r}")
    with in_source_language() as language:  # the English subject, for logs and searches of the table
        subject = localized(writer(params, language).subject)
    return _queue(user, subject, json.dumps(encode(params), sort_keys=True), name, link, application_id, channels)


def _queue(
    user: User,
    subject: str,
    body: str,
    template: str | None,
    link: str | None,
    application_id: int | None,
    channels: Sequence[str],
) -> int:
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
                "template": template,
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


def _with_link(text: str, link: str | None) -> str:
    return f"{text.rstrip()}\n\n{link}\n" if link and link not in text else text


def _sms_line(subject: str, link: str | None) -> str:
    text = f"KITAS Online: {subject}"
    return f"{text} {link}" if link else text


def _render(row: Row[Any]) -> OutgoingMail | None:
    """The mail of a row queued for an address, written now by its renderer; None when there is nothing to send."""
    renderer = _RENDERERS[row.template]
    mail = renderer(row.recipient, json.loads(row.body or "{}"), row.created_at)
    if mail is None:
        return None
    return OutgoingMail(to=row.recipient, subject=mail.subject, text=_with_link(mail.text, absolute_link(mail.link)))


def _notice(template: str, body: str | None, language: str) -> Notice:
    """What a row of a person's notification says (``notify``/``notify_text``), in ``language``."""
    params = json.loads(body or "{}")
    if template == MESSAGE:
        return Notice(decode(params.get("subject", "")), decode(params.get("body", "")))
    writer = _WRITERS.get(template)
    if writer is None:
        raise leases.AttemptFailed(Message("No text is registered for %(template)s.", template=template))
    return writer(decode(params), language)


def _words(row: Any, reader: User | None) -> tuple[str, str]:
    """(subject, body) of a person's notification row in the current language (frozen rows as they are)."""
    if not row.template:
        return str(row.subject), str(row.body)
    return written(_notice(row.template, row.body, current_language()), reader)


def _send(row: Row[Any], mailer: Mailer, sms: SmsSender) -> None:
    """Send one claimed row (a snapshot of its columns: no transaction is open meanwhile)."""
    key = f"kitas-notification-{row.id}"
    if row.template in _RENDERERS:
        mail = _render(row)
        db.session.rollback()  # what the renderer read is not held open while the mail goes out
        if mail is not None:
            mailer.send(replace(mail, message_key=key))
        return
    reader = db.session.get(User, row.user_id) if row.user_id is not None else None
    with in_language_of(reader):  # the recipient's language and zone, read now
        subject, text = _words(row, reader)
    db.session.rollback()
    link = absolute_link(row.link)
    if row.channel == "email":
        mailer.send(OutgoingMail(row.recipient, subject, _with_link(text, link), message_key=key))
    else:
        sms.send(row.recipient, _sms_line(subject, link))


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


@dataclass(frozen=True)
class InAppMessage:
    """An in-app message as its reader sees it: the words in the current language."""

    id: int
    subject: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


def unread_count(user: User) -> int:
    """How many in-app messages ``user`` has not read: one COUNT over ``ix_notification_unread`` (every page asks)."""
    return int(
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.channel == "in_app", Notification.read_at.is_(None)
            )
        )
        or 0
    )


def page_for(user: User, number: int = 1, per_page: int = 20) -> Page[InAppMessage]:
    """One page of the user's in-app messages, read or not, newest first, in the current language."""
    number, per_page = page_bounds(number, per_page)
    mine = (Notification.user_id == user.id, Notification.channel == "in_app")
    total = int(db.session.scalar(select(func.count(Notification.id)).where(*mine)) or 0)
    rows = db.session.scalars(
        select(Notification)
        .where(*mine)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((number - 1) * per_page)
        .limit(per_page)
    )
    return Page([_shown(row, user) for row in rows], number, per_page, total)


def open_message(user: User, message_id: int) -> str | None:
    """Mark one of ``user``'s in-app messages read and return its link (None: it has none).

    A message that is not the user's own in-app message is NotFound, whether it exists or not."""
    now = app_clock().now()
    with write_transaction():
        row = db.session.scalars(
            select(Notification).where(
                Notification.id == message_id, Notification.user_id == user.id, Notification.channel == "in_app"
            )
        ).first()
        if row is None:
            raise NotFound(Message("There is no such notification."))
        if row.read_at is None:
            row.read_at = now
        return row.link


def recent_for(user: User, limit: int = 50) -> list[InAppMessage]:
    """The user's in-app messages, read or not, newest first, written in the current language (the page's)."""
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id, Notification.channel == "in_app")
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [_shown(row, user) for row in rows]


def _shown(row: Notification, reader: User) -> InAppMessage:
    try:
        subject, body = _words(row, reader)
    except Exception:  # a text that can no longer be written: its stored English subject, never a broken page
        log.warning("in-app notification %s cannot be written", row.id, exc_info=True)
        subject, body = row.subject, ""
    return InAppMessage(row.id, subject, body, row.link, row.created_at, row.read_at)


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
