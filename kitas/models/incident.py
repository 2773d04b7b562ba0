"""Incidents: a step of the engine, a timer or a delivery that failed and waits for an administrator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .case import Application
from .types import UTCDateTime
from .user import User

# What failed. The words people read are in the templates (admin/_incident.html).
INCIDENT_KINDS = (
    "script_error",  # a script, condition or expression of the diagram failed
    "time_limit",  # a script ran out of its CPU time or memory
    "engine_error",  # the engine refused the step for another reason
    "timer_failing",  # a timer could not be fired, retry after retry
    "callback_undeliverable",  # the payment provider's notice never reached the service
    "notification_undeliverable",  # an e-mail or SMS could not be sent, retry after retry
)


class Incident(db.Model):  # type: ignore[name-defined]
    """One failure that needs a person: open until an administrator retries it successfully or resolves it.

    ``open_key`` names what failed (case, element and kind, or the given-up row) while the incident is
    open and is cleared when it is resolved, so the same failure repeating counts ``attempts`` on the one
    open incident instead of opening another.
    """

    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("open_key", name="uq_incident_open_key"),
        Index("ix_incident_list", "status", "created_at"),
        Index("ix_incident_case", "application_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # None for failures that belong to no case (an e-mail to a person, a case that could not start).
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    element_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # How many times it failed (for a given-up row: the attempts its retry policy made).
    attempts: Mapped[int] = mapped_column(default=1)
    # How many times an administrator retried it.
    retries: Mapped[int] = mapped_column(default=0)
    # open -> resolved
    status: Mapped[str] = mapped_column(String(16), default="open")
    open_key: Mapped[str | None] = mapped_column(String(200))
    # The leased row that gave up (timer, notification, webhook), which a retry queues again.
    lease_kind: Mapped[str | None] = mapped_column(String(16))
    lease_row_id: Mapped[int | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application | None] = relationship(lazy="select")
    resolved_by: Mapped[User | None] = relationship(lazy="select")
