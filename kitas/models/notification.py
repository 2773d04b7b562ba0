"""The notification outbox: in-app messages, e-mails and SMS, written in the transaction that causes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
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
