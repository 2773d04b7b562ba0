"""Appointment slots an office publishes and the bookings of cases in them.

The capacity is the database's to keep: ``booked`` counts the active bookings of a slot, a CHECK holds
it within ``capacity`` and a booking takes its place with one conditional UPDATE
(``booked = booked + 1 WHERE booked < capacity``), so two applicants taking the last place at the same
moment cannot both have it. A case holds at most one active booking per kind (a partial unique index).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .office import Office
from .types import UTCDateTime

APPOINTMENT_KINDS = ("interview", "biometrics")
APPOINTMENT_STATUSES = ("booked", "cancelled", "attended", "missed")


class AppointmentSlot(db.Model):  # type: ignore[name-defined]
    """A time at an office, for one kind of appointment, with room for ``capacity`` people."""

    __tablename__ = "appointment_slot"
    __table_args__ = (
        CheckConstraint("kind IN ('interview', 'biometrics')", name="ck_appointment_slot_kind"),
        CheckConstraint("capacity >= 1", name="ck_appointment_slot_capacity"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_appointment_slot_booked"),
        CheckConstraint("ends_at > starts_at", name="ck_appointment_slot_length"),
        UniqueConstraint("office_id", "kind", "starts_at", name="uq_appointment_slot_time"),
        Index("ix_appointment_slot_free", "office_id", "kind", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column()
    booked: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    office: Mapped[Office] = relationship()


class Appointment(db.Model):  # type: ignore[name-defined]
    """One case's booking of a place in a slot, and what became of it."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("status IN ('booked', 'cancelled', 'attended', 'missed')", name="ck_appointment_status"),
        # One active booking per case and kind: a second one is refused by the database.
        Index(
            "ux_appointment_active",
            "application_id",
            "kind",
            unique=True,
            postgresql_where=text("status = 'booked'"),
            sqlite_where=text("status = 'booked'"),
        ),
        Index("ix_appointment_slot", "slot_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slot.id", ondelete="RESTRICT"))
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="booked")
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # When it stopped being active (cancelled, rebooked elsewhere, attended or missed) and by whom.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    slot: Mapped[AppointmentSlot] = relationship()
