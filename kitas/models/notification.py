"""The notification outbox: in-app messages, e-mails and SMS, written in the transaction that causes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .leased import LeasedWork
from .types import UTCDateTime


class Notification(LeasedWork, db.Model):  # type: ignore[name-defined]
    """One message to one person on one channel; e-mail and SMS rows are sent later by the scheduler."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_outbox", "sent_at", "next_attempt_at"),
        Index("ix_notification_user", "user_id", "created_at"),
        Index("ix_notification_recipient", "recipient", "created_at"),
        # The bell's unread count on every page: one index range, never the person's whole history.
        Index("ix_notification_unread", "user_id", "channel", "read_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    # email | sms | in_app
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    # The text that writes the message, in its reader's language, when it is sent or shown; ``body``
    # then holds its parameters as JSON and ``subject`` the English subject (for logs). A renderer of
    # rows written before it is known whom they reach (account e-mails such as a reset link), a text
    # of ``notify_text`` (``case.status_changed``), or ``message`` (a Message subject and body). None:
    # an older row whose ``subject`` and ``body`` are its words.
    template: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Reminder(db.Model):  # type: ignore[name-defined]
    """One reminder the catalog's rules call for (``reminders`` in kitas_types.json) about one subject of a
    case: a timer, an open task or a date in the case data. The row exists once per (case, rule,
    subject), so the reminder is sent at most once whatever the number of schedulers."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("application_id", "rule", "subject", name="uq_reminder_subject"),
        Index("ix_reminder_due", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    # The catalog rule's name (``billing_code_expiring``).
    rule: Mapped[str] = mapped_column(String(40))
    # What it is about: the timer's or task's engine id, or the date's ISO text.
    subject: Mapped[str] = mapped_column(String(64))
    # When it goes out, and the moment it speaks of (the deadline, the task's start, the appointment day).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # pending -> sent | dropped (its subject was gone when it fell due) | failed (its words could not be written)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
