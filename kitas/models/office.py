"""Immigration offices, the officers who work in them, and their published appointment slots' owner.

The offices themselves are data (``workflows/offices.json``), synced into this table by ``kitas init``;
a case's office comes from the catalog's domicile rule, never from Python.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# Which offices an officer (verifier, supervisor) works in; an admin sees every office without a row here.
officer_offices = Table(
    "officer_office",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", ForeignKey("office.id", ondelete="CASCADE"), primary_key=True),
)


class Office(db.Model):  # type: ignore[name-defined]
    """One immigration office: where it is, its time zone and its working hours."""

    __tablename__ = "office"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    # An IANA zone: Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT).
    time_zone: Mapped[str] = mapped_column(String(40))
    # Working hours in the office's own time: "08:00" to "16:00" on the listed ISO weekdays (1 = Monday).
    opens: Mapped[str] = mapped_column(String(5))
    closes: Mapped[str] = mapped_column(String(5))
    working_days: Mapped[str] = mapped_column(String(20), default="1,2,3,4,5")
    active: Mapped[bool] = mapped_column(default=True)
