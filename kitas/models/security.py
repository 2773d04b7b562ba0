"""Sign-in security: login attempts, second factors, recovery codes, and the quota of repeated audit rows.

All of it lives in the database, so a limit holds across every process and machine sharing it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime

# What a login attempt tried: a password, a one-time code (TOTP or recovery), an e-mailed sign-in link.
FACTORS = ("password", "code", "link")


class LoginAttempt(db.Model):  # type: ignore[name-defined]
    """One login attempt: which account was asked for, from which address, with what, and whether it worked."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_account", "account", "occurred_at"),
        Index("ix_login_attempt_address", "address", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded: Mapped[bool] = mapped_column(default=False)
    factor: Mapped[str] = mapped_column(String(16), default="password", server_default="password")


class SecondFactor(db.Model):  # type: ignore[name-defined]
    """A person's TOTP secret: pending until a first code confirms it, then required at every sign-in."""

    __tablename__ = "second_factor"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))  # base32, as authenticator apps read it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last time step whose code was accepted: a code is never accepted twice (nor an older one).
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """One of a person's one-time recovery codes, kept as a SHA-256 digest (the codes carry 80 random bits)."""

    __tablename__ = "recovery_code"
    __table_args__ = (Index("ix_recovery_code_user", "user_id", "code_hash", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditQuota(db.Model):  # type: ignore[name-defined]
    """When an event that repeats (a throttled sign-in, a refused page) may be audited again, per key.

    ``suppressed`` counts the repeats not audited since the last row; the next row carries the count.
    """

    __tablename__ = "audit_quota"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suppressed: Mapped[int] = mapped_column(default=0)
