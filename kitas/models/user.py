"""People and their roles."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime

if TYPE_CHECKING:
    from .security import SecondFactor

ROLES = ("applicant", "sponsor", "verifier", "supervisor", "analyst", "admin")

user_roles = Table(
    "user_role",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)


class Role(db.Model):  # type: ignore[name-defined]
    """A role (applicant, sponsor, verifier, supervisor, analyst, admin)."""

    __tablename__ = "role"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class User(db.Model):  # type: ignore[name-defined]
    """A person with an account."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    nationality: Mapped[str | None] = mapped_column(String(2))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(default=True)
    # The language pages, e-mails and SMS are written in ("id", "en"; None: the browser's, else "id")
    # and the zone times are shown in (None: WIB).
    language: Mapped[str | None] = mapped_column(String(5))
    time_zone: Mapped[str | None] = mapped_column(String(40))
    # Whether case news also goes out by e-mail and by SMS (in-app messages always do).
    notify_email: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_sms: Mapped[bool] = mapped_column(default=True, server_default=true())
    # A new address waiting for the link sent to it; the nonce makes that link one-time.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    pending_email_nonce: Mapped[str | None] = mapped_column(String(32))
    # Set when the person's data was erased at their request: the emptied row stays for cases and audit rows.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of the login session's id: replacing it (password reset) ends every session of the account.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")
    # The authenticator app (TOTP), pending or confirmed; loaded with the user on every signed-in request.
    second_factor: Mapped[SecondFactor | None] = relationship(lazy="select", passive_deletes=True)

    @property
    def role_names(self) -> set[str]:
        """The names of this user's roles."""
        return {role.name for role in self.roles}

    def has_role(self, name: str) -> bool:
        """True if the user has the role ``name``."""
        return name in self.role_names

    # Flask-Login's user protocol, written out so the session id carries the session token.
    @property
    def is_authenticated(self) -> bool:
        """Every loaded user is authenticated (anonymous visitors are another class)."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """A loaded user is never anonymous."""
        return False

    def get_id(self) -> str:
        """The id kept in the session: ``<user id>:<session token>``."""
        return f"{self.id}:{self.session_token}"

    @property
    def label(self) -> str:
        """How the user is named in audit rows and conflict messages."""
        return f"{self.full_name} <{self.email}>"
