"""A case (application) and its read projections: open human tasks and pending timers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .audit import GENESIS_HASH
from .definition import ProcessDefinition
from .leased import LeasedWork
from .types import UTCDateTime
from .user import User


class Application(db.Model):  # type: ignore[name-defined]
    """One KITAS application: its reference, people, pinned definition, status and workflow state."""

    __tablename__ = "application"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kitas_type: Mapped[str] = mapped_column(String(32))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    sponsor_email: Mapped[str | None] = mapped_column(String(254), index=True)
    # company | institution | person (the case data's ``sponsor_kind``, else the type's only kind)
    sponsor_kind: Mapped[str | None] = mapped_column(String(16))
    # The group application this case belongs to, if a sponsor started it with others.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("application_group.id"), index=True)
    # The province the applicant (or the sponsor) lives in, chosen when the case starts, and the office the
    # catalog's domicile rule (workflows/offices.json) gives it: officers see their offices' cases only.
    domicile_province: Mapped[str | None] = mapped_column(String(60))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    # A sandbox case an analyst runs from the studio: officers, inboxes and statistics never see it.
    trial: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    status: Mapped[str] = mapped_column(String(40))
    # What the officers' inbox filters and searches by, projected from the case data by the unit of work's
    # save (never parsed from the workflow state by a list): the index code, the applicant's name (as
    # typed) with its lower-case search form, the passport number (upper case, no spaces).
    index_code: Mapped[str | None] = mapped_column(String(16))
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    name_search: Mapped[str | None] = mapped_column(String(200))
    passport_number: Mapped[str | None] = mapped_column(String(40), index=True)
    status_detail: Mapped[str | None] = mapped_column(String(500))
    # Only the engine reads the state; lists and pages read the columns around it.
    workflow_state: Mapped[str] = mapped_column(Text, deferred=True)
    state_format: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The head of the case's audit chain: the step that holds this row locked appends to it.
    audit_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    audit_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH, server_default=GENESIS_HASH)

    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id], lazy="select")
    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")
    # The case's READY tasks (the projection); read-only here: the unit of work writes them with Core statements.
    open_tasks: Mapped[list[HumanTask]] = relationship(lazy="select", viewonly=True, order_by="HumanTask.id")

    __table_args__ = (
        Index("ix_application_sponsor_open", "sponsor_email", "closed_at"),
        # PostgreSQL also has a trigram GIN index on name_search (migration 0014_inbox) for "name contains".
        Index("ix_application_name_search", "name_search"),
    )
    __mapper_args__ = {"version_id_col": version}


# The columns the inbox filters tasks by (covered by its indexes on PostgreSQL: INCLUDE, migration 0019).
INBOX_COLUMNS = ["kitas_type", "index_code", "element_id", "claimed_by_id", "due_at", "office_id", "escalated_at"]
# The inbox's filter indexes: (role, the filter's column, the sort column). PostgreSQL INCLUDEs the other
# filters' columns; SQLite has no INCLUDE, so its indexes carry them as trailing keys instead (``*_cover``,
# created on SQLite only; the id right after the sort column, so the index is in the list's order): either
# way a count with several filters reads the index alone, never the table.
_FILTERS = {
    "due": ("due_at", "id"),
    "step": ("element_id", "created_at"),
    "claimed": ("claimed_by_id", "created_at"),
    "type": ("kitas_type", "created_at"),
    "index": ("index_code", "created_at"),
    "office": ("office_id", "created_at"),
}


def inbox_indexes() -> list[Index]:
    """The inbox's filter indexes of both databases (migration 0019_inbox_speed creates the same)."""
    found: list[Index] = []
    for name, keys in _FILTERS.items():
        postgres = Index(f"ix_human_task_{name}", "role", *keys, postgresql_include=INBOX_COLUMNS)
        found.append(postgres.ddl_if(dialect="postgresql"))
        found.append(Index(f"ix_human_task_{name}_cover", *sqlite_cover(keys)).ddl_if(dialect="sqlite"))
    escalated = text("escalated_at IS NOT NULL")
    postgres = Index(
        "ix_human_task_escalated",
        "role",
        "office_id",
        "created_at",
        postgresql_include=INBOX_COLUMNS,
        postgresql_where=escalated,
    )
    found.append(postgres.ddl_if(dialect="postgresql"))
    cover = Index("ix_human_task_escalated_cover", *sqlite_cover(("office_id", "created_at")), sqlite_where=escalated)
    found.append(cover.ddl_if(dialect="sqlite"))
    return found


def sqlite_cover(keys: tuple[str, ...]) -> list[str]:
    """The columns of a SQLite filter index: the role, the filter's keys, the sort column and the id (the
    list's order), then every other column the inbox filters by."""
    ordered = ["role", *keys] + ([] if keys[-1] == "id" else ["id"])
    return ordered + [c for c in ["created_at", *INBOX_COLUMNS] if c not in ordered]


class HumanTask(db.Model):  # type: ignore[name-defined]
    """A READY user task of a case; the row exists exactly as long as the task is READY."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("application_id", "task_id", name="uq_human_task"),
        Index("ix_human_task_inbox", "role", "created_at"),
        Index("ix_human_task_case", "application_id", "role", "created_at"),
        # The inbox's filters and sorts (migrations 0014_inbox, 0019_inbox_speed): by due time, step,
        # claimant, type, index code, office; the escalated tasks (a partial index).
        *inbox_indexes(),
        # The dashboard's open and late tasks per step and office (migration 0018_dashboard): an index-only scan.
        Index("ix_human_task_step_office", "element_id", "office_id", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    # The case's type and index code, copied when the row is written, so the inbox filters and counts
    # tasks without joining every case.
    kitas_type: Mapped[str | None] = mapped_column(String(32))
    index_code: Mapped[str | None] = mapped_column(String(16))
    # The case's office, copied like the type: the inbox shows an officer her offices' tasks only.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))
    form_schema: Mapped[str | None] = mapped_column(String(200))
    form_ui_schema: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why it was escalated: the element id of the diagram's (non-interrupting) timer that fired on it.
    escalated_by: Mapped[str | None] = mapped_column(String(100))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "Save and continue later": the form input kept until the task is completed.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    draft_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application: Mapped[Application] = relationship(lazy="select")
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id], lazy="select")


class SavedFilter(db.Model):  # type: ignore[name-defined]
    """An officer's named inbox filter: the query string of the inbox, kept as its normal form."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_filter_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Timer(LeasedWork, db.Model):  # type: ignore[name-defined]
    """A BPMN timer a case waits on, fired by the scheduler once it is due (leased: see LeasedWork)."""

    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("application_id", "task_id", name="uq_timer_task"),
        Index("ix_timer_due", "status", "due_at"),
        Index("ix_timer_case", "application_id", "status", "due_at"),
        # The scheduler's next wake-up: the earliest lease or retry of a pending timer.
        Index("ix_timer_retry", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(100))
    attached_to: Mapped[str | None] = mapped_column(String(100))
    interrupting: Mapped[bool] = mapped_column(default=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # pending -> fired | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
