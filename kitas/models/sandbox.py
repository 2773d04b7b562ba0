"""The sandbox payment provider's own records: its bills and the signed notices it still has to send.

They live in the same database for convenience only. The sandbox bank service
(``kitas.services.sandbox_bank``) is the only code that reads or writes them;
KITAS Online itself knows the provider only through its ``PaymentGateway``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .leased import LeasedWork
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


class SandboxWebhook(LeasedWork, db.Model):  # type: ignore[name-defined]
    """A signed notice the sandbox provider POSTs to the merchant, retried until accepted (leased)."""

    __tablename__ = "sandbox_webhook"
    __table_args__ = (Index("ix_sandbox_webhook_due", "delivered_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
