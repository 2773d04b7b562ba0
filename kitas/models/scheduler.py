"""Scheduler heartbeats: which scheduler processes are alive, kept where every process can see them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class SchedulerHeartbeat(db.Model):  # type: ignore[name-defined]
    """One scheduler (a ``kitas scheduler`` process or the one embedded in a web process) and its last beat."""

    __tablename__ = "scheduler_heartbeat"
    __table_args__ = (Index("ix_scheduler_heartbeat_beat", "beat_at"),)
    # The lease owner name the scheduler claims rows under (host:pid unless given).
    owner: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column()
    embedded: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
