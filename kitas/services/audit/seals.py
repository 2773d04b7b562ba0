"""Seal the audit chains: a global chain of periodic digests of every chain head that moved.

A seal commits to the heads (seq and hash) of the chains that grew since the previous seal and to the
hash of that seal. Rows already sealed cannot then be changed, removed, or cut off the end of their
chain, nor a whole chain deleted, without the seals saying so. Seals are written even when nothing
moved: the time of the newest seal is what tells the next pass (in any process) whether one is due.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, cast, delete, func, insert, literal, select

from engine import canonical_json

from ...extensions import app_clock, db
from ...models import Application, AuditChain, AuditSeal, SealedHead
from ...transactions import write_transaction
from .chain import SEAL_CHAIN, lock_chain

log = logging.getLogger(__name__)

SEAL_SIZE = 2000  # chain heads per seal row, so a seal stays a small row however much moved
_CHUNK = 500  # names per IN list


def seal_digest(prev_hash: str, seq: int, sealed_at: datetime, heads: dict[str, Any]) -> str:
    """The hash of one seal: its place in the seals' chain, its time, the heads it commits to."""
    body = canonical_json({"seq": seq, "at": sealed_at.isoformat(), "heads": heads})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def seal_due() -> int:
    """The scheduler's job: seal when the newest seal is older than ``KITAS_AUDIT_SEAL_INTERVAL`` seconds.

    Returns how many chain heads were sealed (0 when no seal was due).
    """
    interval = timedelta(seconds=float(current_app.config["KITAS_AUDIT_SEAL_INTERVAL"]))
    if not _is_due(interval):  # an unlocked look first: most passes end here
        db.session.rollback()
        return 0
    return seal_chains(interval)


def seal_chains(interval: timedelta | None = None) -> int:
    """Append seals for every chain whose head moved since it was last sealed; returns how many heads.

    With ``interval``, nothing is sealed if another process sealed within it meanwhile.
    """
    with write_transaction():
        seq, prev_hash = lock_chain(SEAL_CHAIN)  # one sealer at a time, in every process
        if interval is not None and not _is_due(interval):
            return 0
        moved = _moved_heads()
        sealed_at = app_clock().now().replace(microsecond=0)
        batches = [moved[i : i + SEAL_SIZE] for i in range(0, len(moved), SEAL_SIZE)] or [[]]
        for batch in batches:
            seq += 1
            heads = {name: [head_seq, head_hash] for name, head_seq, head_hash in batch}
            prev_hash = _append_seal(seq, sealed_at, heads, prev_hash)
        db.session.execute(
            AuditChain.__table__.update().where(AuditChain.chain == SEAL_CHAIN).values(seq=seq, last_hash=prev_hash)
        )
        _remember_sealed([(name, head_seq) for name, head_seq, _ in moved])
    # The newest seal's hash in the log is a copy outside the database that a rewrite cannot reach.
    log.info("audit sealed %d chain heads; seal %d hash %s", len(moved), seq, prev_hash)
    return len(moved)


def _is_due(interval: timedelta) -> bool:
    newest = db.session.scalar(select(AuditSeal.sealed_at).order_by(AuditSeal.seq.desc()).limit(1))
    return newest is None or app_clock().now() - newest >= interval


def _moved_heads() -> list[tuple[str, int, str]]:
    """(chain, seq, hash) of every head ahead of what the seals reach, cases first."""
    case_name = literal("case:") + cast(Application.id, String)
    cases = db.session.execute(
        select(case_name, Application.audit_seq, Application.audit_hash)
        .outerjoin(SealedHead, SealedHead.chain == case_name)
        .where(Application.audit_seq > func.coalesce(SealedHead.seq, 0))
        .order_by(Application.id)
    ).all()
    others = db.session.execute(
        select(AuditChain.chain, AuditChain.seq, AuditChain.last_hash)
        .outerjoin(SealedHead, SealedHead.chain == AuditChain.chain)
        .where(AuditChain.chain != SEAL_CHAIN, AuditChain.seq > func.coalesce(SealedHead.seq, 0))
        .order_by(AuditChain.chain)
    ).all()
    return [(str(name), int(seq), str(digest)) for name, seq, digest in [*cases, *others]]


def _append_seal(seq: int, sealed_at: datetime, heads: dict[str, Any], prev_hash: str) -> str:
    digest = seal_digest(prev_hash, seq, sealed_at, heads)
    db.session.execute(
        insert(AuditSeal).values(seq=seq, sealed_at=sealed_at, heads=heads, prev_hash=prev_hash, hash=digest)
    )
    return digest


def _remember_sealed(sealed: list[tuple[str, int]]) -> None:
    """Move each chain's sealed mark (delete and insert: the same statements on every database)."""
    for start in range(0, len(sealed), _CHUNK):
        chunk = sealed[start : start + _CHUNK]
        db.session.execute(delete(SealedHead).where(SealedHead.chain.in_([name for name, _ in chunk])))
        db.session.execute(insert(SealedHead), [{"chain": name, "seq": seq} for name, seq in chunk])
