"""Deployed versions of process definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..extensions import db
from .types import UTCDateTime


class ProcessDefinition(db.Model):  # type: ignore[name-defined]
    """One deployed version of a diagram, with the form and decision files it uses.

    A trial version (``trial``) is one an analyst tries from the studio: only sandbox cases run on it,
    and it is never the version new cases start on. Trial versions count down (-1, -2, ...), so they
    never take a deployed version's number. A rollback makes an older version current again by
    retiring the versions after it (``retired``): new cases start on the newest version that is
    neither trial nor retired; running cases keep theirs."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("process_id", "version", name="uq_definition_version"),
        UniqueConstraint("process_id", "content_hash", name="uq_definition_hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The large columns load only when asked for: the parsed model and forms are cached by content hash.
    bpmn_xml: Mapped[str] = deferred(mapped_column(Text, nullable=False))
    # file name -> text: the form schemas, UI schemas and decision tables of this version
    files: Mapped[dict[str, Any]] = deferred(mapped_column(JSON, nullable=False))
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deployed_by: Mapped[str] = mapped_column(String(300))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What the analyst said of the version (the proposal's comment), shown in the version list.
    comment: Mapped[str | None] = mapped_column(String(1000))
    trial: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
