"""The analysts' studio: drafts of a process model being edited, and versions proposed for deployment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime
from .user import User

DRAFT_STATUSES = ("open", "proposed", "deployed", "discarded")
PROPOSAL_STATUSES = ("pending", "approved", "rejected", "withdrawn")


class StudioDraft(db.Model):  # type: ignore[name-defined]
    """A process model an analyst is editing: the diagram and the files it uses (forms, their texts,
    decision tables), saved on the server. ``revision`` counts saves: a save names the revision it
    was made on, so two analysts editing one draft get a conflict instead of overwriting each other."""

    __tablename__ = "studio_draft"
    __table_args__ = (Index("ix_studio_draft_process", "process_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    bpmn_xml: Mapped[str] = deferred(mapped_column(Text, nullable=False))
    # file name -> text: form schemas, UI schemas, their translations, decision tables
    files: Mapped[dict[str, Any]] = deferred(mapped_column(JSON, nullable=False))
    # The deployed version the draft started from (None: imported, or a new process).
    base_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    source_name: Mapped[str | None] = mapped_column(String(255))
    revision: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id], lazy="joined")


class DeploymentProposal(db.Model):  # type: ignore[name-defined]
    """A version an analyst proposes for deployment, frozen as proposed; another analyst or an admin
    approves it (then it is deployed) or rejects it, each with a comment."""

    __tablename__ = "deployment_proposal"
    __table_args__ = (Index("ix_deployment_proposal_status", "status", "proposed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("studio_draft.id"))
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    bpmn_xml: Mapped[str] = deferred(mapped_column(Text, nullable=False))
    files: Mapped[dict[str, Any]] = deferred(mapped_column(JSON, nullable=False))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The deployed version the proposal is compared with (the latest when proposed).
    base_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    comment: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_comment: Mapped[str | None] = mapped_column(String(1000))
    # The version the approval deployed.
    definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id], lazy="joined")
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id], lazy="joined")
