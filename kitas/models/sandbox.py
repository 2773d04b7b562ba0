"""The sandbox payment provider's own records: its bills and the webhooks it still has to send.

They live in the same database for convenience only; KITAS Online's code reaches them
through the sandbox gateway and the sandbox bank, never directly.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class SandboxBill(db.Model):  # type: ignore[name-defined]
    """A billing code the sandbox provider issued to a merchant."""

    __tablename__ = "sandbox_bill"
    id: Mapped[int] = mapped_column(primary_key=True)
    billing_code: Mapped[str] = mapped_column(String(40), unique=True)
    merchant_ref: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    callback_url: Mapped[str] = mapped_column(String(500))
    # unpaid -> paid
    status: Mapped[str] = mapped_column(String(16), default="unpaid")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SandboxWebhook(db.Model):  # type: ignore[name-defined]
    """A signed notification the sandbox provider sends to the merchant, retried until accepted."""

    __tablename__ = "sandbox_webhook"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
