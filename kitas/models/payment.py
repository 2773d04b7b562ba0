"""Payments as KITAS Online sees them, and the provider events it has processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Payment(db.Model):  # type: ignore[name-defined]
    """A billing code issued for a case: amount in whole rupiah, expiry, and whether it was paid."""

    __tablename__ = "payment"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    billing_code: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column()
    # pending -> paid | expired
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_ref: Mapped[str | None] = mapped_column(String(100))


class PaymentEvent(db.Model):  # type: ignore[name-defined]
    """A provider notification (webhook) that was authentic and has been handled; its id is never handled twice."""

    __tablename__ = "payment_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
