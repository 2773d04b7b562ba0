"""Internal notes officers keep on a case: read by officers only, never on the applicant's pages or export."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime
from .user import User


class CaseNote(db.Model):  # type: ignore[name-defined]
    """One officer's note on a case, in the order written."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_case", "application_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(String(2000))

    author: Mapped[User] = relationship(lazy="joined")
