"""The case milestones projection: when a case was paid, decided, sent back, completed, and who decided.

Written by the unit of work's save where the events happen (a change of status, an officer completing a
task), read by the supervisors' dashboard; nothing reads a workflow state to draw the figures.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime

# paid | corrections_requested | decided (the rules of workflows/milestones.json) | completed (the case
# closed) | officer_decision (an officer completed a task of an officer's lane)
MILESTONE_KINDS = ("paid", "corrections_requested", "decided", "completed", "officer_decision")


class CaseMilestone(db.Model):  # type: ignore[name-defined]
    """One milestone of a case: its kind, when (UTC, and the day in the office's zone), who, why."""

    __tablename__ = "case_milestone"
    __table_args__ = (
        # The dashboard's figures read one kind over a range of days (arrivals, completions, decisions).
        Index("ix_case_milestone_kind_day", "kind", "day"),
        # A case's milestones (paid -> decided; "once" milestones are looked up per case).
        Index("ix_case_milestone_case", "application_id", "kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The calendar day of ``at`` in the case's office's zone (WIB when it has none): what days are counted by.
    day: Mapped[date] = mapped_column(Date)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Copied from the case when written, so figures per type and office read this table alone.
    kitas_type: Mapped[str] = mapped_column(String(32))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id", ondelete="SET NULL"))
    # The task an officer completed (officer_decision); the status a case closed in (completed).
    element_id: Mapped[str | None] = mapped_column(String(100))
    # The reason the case's status carries (the officer's words when corrections are requested).
    reason: Mapped[str | None] = mapped_column(String(500))
