"""Append to the audit trail: one hash chain per case, per user, per process, and a few shared shards.

A case's chain has its head on the ``application`` row, which every step of the case holds locked and
updates anyway: given the locked case, an append costs no query at all. Rows of no case go to a chain
whose head is an ``audit_chain`` row: the user's own (``user:<id>``), a process's deployments
(``process:<id>``), or, for rows without a user (anonymous visitors, the system, a payment provider,
the CLI), one of ``ACTOR_SHARDS`` shard chains picked by a hash of the row's actor and detail. Hashing
the content spreads those appends over all shards whatever the traffic (a flood of failed logins from
one address, or every registration by "system", does not queue behind one row), keeps the number of
chains bounded whatever a visitor sends (so seals stay small), and is reproducible (the migration
places old rows the same way).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from engine import canonical_json

from ...extensions import app_clock, db
from ...models import Application, AuditChain, AuditEvent, User
from ...models.audit import GENESIS_HASH

SYSTEM_ACTOR = "system"
ACTOR_SHARDS = 16
SEAL_CHAIN = "seals"  # the head of the seals' own chain, kept with the other heads


def case_chain(application_id: int) -> str:
    """The name of a case's chain."""
    return f"case:{application_id}"


def process_chain(process_id: str) -> str:
    """The name of the chain of a process's deployments."""
    return f"process:{process_id}"


def shard_chain(actor: str, detail: dict[str, Any]) -> str:
    """The shard chain of a row that belongs to no case and no user, chosen by its content."""
    key = hashlib.sha256((actor + "\n" + canonical_json(detail)).encode("utf-8")).digest()
    return f"actor:{int.from_bytes(key[:4], 'big') % ACTOR_SHARDS}"


def event_digest(
    prev_hash: str,
    chain: str,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    detail: dict[str, Any],
) -> str:
    """The hash of one row: what it says, where it stands in its chain, and the hash of the row before."""
    body = canonical_json(
        {
            "chain": chain,
            "seq": seq,
            "at": occurred_at.isoformat(),
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "detail": detail,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def lock_chain(chain: str) -> tuple[int, str]:
    """Lock (creating it if needed) the head of a chain kept in ``audit_chain``; returns (seq, last hash).

    The lock is held until the caller's transaction ends, so it also serializes whatever the caller
    does next for that chain (deployments of one process use it to number their versions).
    """
    query = select(AuditChain.seq, AuditChain.last_hash).where(AuditChain.chain == chain).with_for_update()
    head = db.session.execute(query).first()
    if head is None:
        # Two first appends may race: the loser's insert waits for the winner's and then does nothing.
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(AuditChain).values(chain=chain, seq=0, last_hash=GENESIS_HASH)
        db.session.execute(insert.on_conflict_do_nothing(index_elements=["chain"]))
        head = db.session.execute(query).one()
    return int(head.seq), str(head.last_hash)


AuditEntry = tuple[str, dict[str, Any], "User | None", "str | None"]  # action, detail, user, actor


def record(
    action: str,
    detail: dict[str, Any],
    *,
    user: User | None = None,
    actor: str | None = None,
    application_id: int | None = None,
    case: Application | None = None,
    chain: str | None = None,
) -> AuditEvent:
    """Append an audit row inside the caller's transaction, to the chain it belongs to.

    ``case``: the case row the caller holds locked (its head is read from it, no lock is taken);
    ``application_id`` alone locks that case's row first. Either way the head is stored with a plain
    UPDATE that leaves the case's version alone. The case unit of work uses ``append_to_case`` instead,
    and stores the head with the case row's own UPDATE.
    ``chain`` names another chain explicitly (kept in ``audit_chain``, e.g. ``process_chain(...)``).
    """
    if chain is not None and (case is not None or application_id is not None):
        raise ValueError(f"a row of a case belongs to the case's chain, not to {chain}")
    if case is not None:
        if application_id not in (None, case.id):
            raise ValueError(f"audit row for case {case.id} given application_id {application_id}")
        if case.id is None:  # a case being started: it needs its id to name its chain
            db.session.flush()
        application_id = case.id
        name, head = case_chain(case.id), (case.audit_seq or 0, case.audit_hash or GENESIS_HASH)
    elif application_id is not None:
        name, head = case_chain(application_id), _lock_case_head(application_id)
    else:
        label = user.label if user is not None else (actor or SYSTEM_ACTOR)
        clean = json.loads(canonical_json(detail))
        name = chain or (f"user:{user.id}" if user is not None and user.id is not None else shard_chain(label, clean))
        head = lock_chain(name)
    values = _row(name, head[0] + 1, head[1], app_clock().now(), (action, detail, user, actor), application_id)
    if application_id is not None:  # the case's own row: a plain UPDATE, the case's version stays
        _move_case_head(application_id, values["seq"], values["hash"])
    else:
        db.session.execute(
            update(AuditChain).where(AuditChain.chain == name).values(seq=values["seq"], last_hash=values["hash"])
        )
    row = AuditEvent(**values)
    db.session.add(row)
    return row


def append_to_case(case: Application, entries: list[AuditEntry]) -> tuple[int, str]:
    """Append rows to the chain of a case the caller holds locked, with ONE insert; returns the new head.

    The head is not stored here: the caller writes it with the case row (the unit of work's one UPDATE).
    """
    name = case_chain(case.id)
    seq, prev_hash = case.audit_seq or 0, case.audit_hash or GENESIS_HASH
    now = app_clock().now()
    rows = []
    for entry in entries:
        seq += 1
        rows.append(_row(name, seq, prev_hash, now, entry, case.id))
        prev_hash = rows[-1]["hash"]
    if rows:
        db.session.execute(insert(AuditEvent.__table__), rows)
    return seq, prev_hash


def _row(
    chain: str, seq: int, prev_hash: str, now: datetime, entry: AuditEntry, application_id: int | None
) -> dict[str, Any]:
    """The columns of one audit row at ``seq`` of ``chain``, its hash computed."""
    action, raw_detail, user, actor = entry
    detail = json.loads(canonical_json(raw_detail))  # hash exactly what the JSON column gives back
    label = user.label if user is not None else (actor or SYSTEM_ACTOR)
    actor_id = user.id if user is not None else None
    occurred_at = now.replace(microsecond=0)
    return {
        "chain": chain,
        "seq": seq,
        "occurred_at": occurred_at,
        "actor_id": actor_id,
        "actor": label,
        "action": action,
        "application_id": application_id,
        "detail": detail,
        "prev_hash": prev_hash,
        "hash": event_digest(prev_hash, chain, seq, occurred_at, actor_id, label, action, detail),
    }


def _lock_case_head(application_id: int) -> tuple[int, str]:
    """Lock a case's row and read its chain head (for callers that did not pass the case itself)."""
    head = db.session.execute(
        select(Application.audit_seq, Application.audit_hash)
        .where(Application.id == application_id)
        .with_for_update(of=Application)
    ).first()
    if head is None:
        raise ValueError(f"there is no application {application_id} to audit")
    return int(head.audit_seq), str(head.audit_hash)


def _move_case_head(application_id: int, seq: int, digest: str) -> None:
    """Store a case's new head with a plain UPDATE (no version bump) and tell a loaded case object."""
    db.session.execute(
        update(Application.__table__).where(Application.id == application_id).values(audit_seq=seq, audit_hash=digest)
    )
    loaded = db.session.identity_map.get(identity_key(Application, application_id))
    if loaded is not None:
        set_committed_value(loaded, "audit_seq", seq)
        set_committed_value(loaded, "audit_hash", digest)
