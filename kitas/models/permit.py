"""The e-permit an issued case gives its holder, and the log of public verification lookups."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Permit(db.Model):  # type: ignore[name-defined]
    """One issued KITAS: who holds it, what it is, how long it is valid, where it was issued, whether revoked.

    What a verification shows is read from here; the passport number and the address are never kept.
    """

    __tablename__ = "permit"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Printed on the permit: the index, the year and a random part (``E23-2026-P4KQ7X-M2XA9``).
    number: Mapped[str] = mapped_column(String(40), unique=True)
    # The random id the signed verification token carries (never the number or the row id).
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    # One permit per case: issuing again finds this one.
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    nationality: Mapped[str] = mapped_column(String(64))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    kitas_type: Mapped[str] = mapped_column(String(32))
    index_code: Mapped[str] = mapped_column(String(16))
    sponsor: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    # The issuing office as the case recorded it (a code of the booking form, named in the reader's words).
    office: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))


class PermitCheck(db.Model):  # type: ignore[name-defined]
    """One public verification lookup: from which address, when, and what it found (the rate limit counts these)."""

    __tablename__ = "permit_check"
    __table_args__ = (Index("ix_permit_check_address", "address", "checked_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int | None] = mapped_column(ForeignKey("permit.id", ondelete="SET NULL"), index=True)
    address: Mapped[str] = mapped_column(String(64))
    # valid | revoked | expired | refused (a token that is not ours)
    outcome: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
