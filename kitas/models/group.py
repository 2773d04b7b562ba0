"""Group applications: one sponsor, one set of sponsor data, one case per person, and combined bills."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class ApplicationGroup(db.Model):  # type: ignore[name-defined]
    """Applications a sponsor started together (a family, a team); each member's case names the group."""

    __tablename__ = "application_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kitas_type: Mapped[str] = mapped_column(String(32))
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    sponsor_kind: Mapped[str | None] = mapped_column(String(16))
    # The sponsor's data given once for every member (field name -> value, as the type's forms name them).
    sponsor_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Each member's name by case id, for the group page (lists never read the workflow state).
    members: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GroupBill(db.Model):  # type: ignore[name-defined]
    """One billing code that pays the fees of several member cases at once (a provider's capability)."""

    __tablename__ = "group_bill"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("application_group.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    billing_code: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column()  # the sum of its items
    # pending -> paid
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    event_id: Mapped[str | None] = mapped_column(String(100))


class GroupBillItem(db.Model):  # type: ignore[name-defined]
    """One case's fee inside a group bill; ``delivered_at`` once its case received ``payment_received``."""

    __tablename__ = "group_bill_item"
    __table_args__ = (
        UniqueConstraint("bill_id", "application_id", name="uq_group_bill_item"),
        Index("ix_group_bill_item_case", "application_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("group_bill.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column()
    # pending -> delivered | not_waiting (paid, but the case had stopped waiting: an officer must look)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
