"""The tamper-evident audit trail: hash chains without one hot row, sealed by a global chain of digests.

Every row belongs to one chain and carries the hash of the row before it in that chain. A case's
rows form its own chain, whose head lives on the ``application`` row; other chains (a user's, a
process's deployments, the shards of rows with neither) keep their head in ``audit_chain``. A
scheduler job appends ``audit_seal`` rows, themselves a chain, committing to the heads that moved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime

GENESIS_HASH = "0" * 64
CHAIN_NAME_LENGTH = 160


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One audited event (case started, task completed, timer fired, message delivered, access refused...)."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_event_chain_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # "case:<id>", "user:<id>", "process:<process id>" or "actor:<shard>"; seq counts from 1 in each.
    chain: Mapped[str] = mapped_column(String(CHAIN_NAME_LENGTH))
    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(60), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChain(db.Model):  # type: ignore[name-defined]
    """The head of a chain that is not a case's (a case keeps its head on its own row), and of the seals."""

    __tablename__ = "audit_chain"
    chain: Mapped[str] = mapped_column(String(CHAIN_NAME_LENGTH), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class AuditSeal(db.Model):  # type: ignore[name-defined]
    """A periodic digest: the heads of the chains that moved since the previous seal, chained to it."""

    __tablename__ = "audit_seal"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # chain name -> [seq, hash] of its head when sealed
    heads: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SealedHead(db.Model):  # type: ignore[name-defined]
    """How far the seals reach in each chain; only the sealing job writes it, to find what moved since."""

    __tablename__ = "audit_sealed_head"
    chain: Mapped[str] = mapped_column(String(CHAIN_NAME_LENGTH), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
