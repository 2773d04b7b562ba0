"""Append to and verify the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import canonical_json

from ...extensions import app_clock, db
from ...models import AuditEvent, AuditHead, User
from ...models.audit import GENESIS_HASH

SYSTEM_ACTOR = "system"


def _digest(prev_hash: str, seq: int, occurred_at: datetime, actor: str, action: str, detail: dict[str, Any]) -> str:
    body = canonical_json(
        {"seq": seq, "at": occurred_at.isoformat(), "actor": actor, "action": action, "detail": detail}
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def lock_head() -> AuditHead:
    """Lock (creating it if needed) the chain head; held until the caller's transaction ends."""
    head = db.session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:  # the migration seeds it; this only covers a database built without migrations
        head = AuditHead(id=1, seq=0, last_hash=GENESIS_HASH)
        db.session.add(head)
    return head


def record(
    action: str,
    detail: dict[str, Any],
    *,
    user: User | None = None,
    actor: str | None = None,
    application_id: int | None = None,
) -> AuditEvent:
    """Append an audit row inside the caller's transaction (the chain head is locked until commit)."""
    head = lock_head()
    # Hash exactly what the JSON column will give back (string keys, plain values).
    detail = json.loads(canonical_json(detail))
    occurred_at = app_clock().now().replace(microsecond=0)
    label = user.label if user is not None else (actor or SYSTEM_ACTOR)
    seq = head.seq + 1
    digest = _digest(head.last_hash, seq, occurred_at, label, action, detail)
    row = AuditEvent(
        seq=seq,
        occurred_at=occurred_at,
        actor_id=user.id if user is not None else None,
        actor=label,
        action=action,
        application_id=application_id,
        detail=detail,
        prev_hash=head.last_hash,
        hash=digest,
    )
    head.seq = seq
    head.last_hash = digest
    db.session.add(row)
    return row


@dataclass(frozen=True)
class ChainReport:
    """The result of verifying the audit chain."""

    rows: int
    broken_at: int | None  # seq of the first row whose link or hash is wrong
    problem: str | None

    @property
    def ok(self) -> bool:
        """True when every link holds."""
        return self.broken_at is None


def verify_chain(batch: int = 1000) -> ChainReport:
    """Recompute every hash in order, up to the head read first, and report the first broken link."""
    head = db.session.get(AuditHead, 1)
    head_seq = head.seq if head is not None else 0
    head_hash = head.last_hash if head is not None else GENESIS_HASH
    db.session.rollback()  # rows appended after this point are not part of the check
    prev_hash, expected_seq, count, last_seq = GENESIS_HASH, 1, 0, 0
    while last_seq < head_seq:
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq, AuditEvent.seq <= head_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            count += 1
            if row.seq != expected_seq:
                return ChainReport(count, row.seq, f"row {expected_seq} is missing (found {row.seq} next)")
            if row.prev_hash != prev_hash:
                return ChainReport(count, row.seq, f"row {row.seq} does not point to the hash of row {row.seq - 1}")
            digest = _digest(row.prev_hash, row.seq, row.occurred_at, row.actor, row.action, row.detail)
            if digest != row.hash:
                return ChainReport(count, row.seq, f"row {row.seq} was changed after it was written")
            prev_hash, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
        db.session.rollback()
    if last_seq != head_seq or prev_hash != head_hash:
        return ChainReport(count, last_seq + 1, f"rows after {last_seq} were removed (the head says {head_seq})")
    return ChainReport(count, None, None)
