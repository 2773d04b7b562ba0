"""Migration 0004 re-chains an existing trail per chain, and its downgrade restores the one global chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, BigInteger, String, column, select, table, text

from kitas.extensions import db
from kitas.models.types import UTCDateTime
from kitas.services import accounts, audit, cases
from tests.services.helpers import complete

# audit_event as revision 0003 has it
_OLD_EVENTS = table(
    "audit_event",
    column("seq", BigInteger),
    column("occurred_at", UTCDateTime()),
    column("actor", String),
    column("action", String),
    column("detail", JSON),
    column("prev_hash", String),
    column("hash", String),
)


def _old_format_problems() -> list[str]:
    """Check the trail as revision 0003 hashed it: one chain in seq order, ending at audit_head."""
    problems, prev_hash = [], "0" * 64
    rows = db.session.execute(select(_OLD_EVENTS).order_by(_OLD_EVENTS.c.seq)).all()
    for expected, row in enumerate(rows, start=1):
        body = {"seq": row.seq, "at": row.occurred_at.isoformat(), "actor": row.actor, "action": row.action}
        body["detail"] = row.detail
        text_body = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if row.seq != expected or row.prev_hash != prev_hash:
            problems.append(f"row {row.seq} is out of place")
        if hashlib.sha256((prev_hash + text_body).encode("utf-8")).hexdigest() != row.hash:
            problems.append(f"row {row.seq} hashes differently")
        prev_hash = row.hash
    head = db.session.execute(text("SELECT seq, last_hash FROM audit_head WHERE id = 1")).one()
    if (head.seq, head.last_hash) != (len(rows), prev_hash):
        problems.append("the head is not the last row")
    return problems


def _trail() -> tuple[dict[int, tuple[str, int, str]], list[tuple[int, int, str]]]:
    """Every row's (chain, seq, hash) by id, and every case's head."""
    rows = db.session.execute(text("SELECT id, chain, seq, hash FROM audit_event")).all()
    heads = db.session.execute(text("SELECT id, audit_seq, audit_hash FROM application ORDER BY id")).all()
    db.session.rollback()
    return {r.id: (r.chain, r.seq, r.hash) for r in rows}, [tuple(h) for h in heads]


def test_a_trail_survives_downgrade_and_upgrade(ctx: Flask, worker: int, users: dict[str, Any]) -> None:
    for who in ("applicant", "other_applicant"):
        application = cases.start_case("worker", users[who])
        complete(application.id, "applicant_data", users[who])
    with pytest.raises(accounts.LoginRefused):
        accounts.authenticate("nobody@example.org", "wrong password", "198.51.100.9")
    audit.seal_chains()
    before = _trail()
    # six processes (the worker and its five shared steps), two cases, a shard
    assert len({chain for chain, _, _ in before[0].values()}) == 9
    db.session.remove()
    try:
        downgrade(revision="0003")
        assert _old_format_problems() == []
        db.session.remove()
    finally:
        upgrade()
    assert _trail() == before  # the same chains, places and hashes as when they were written
    report = audit.verify_chain()
    assert report.ok and report.rows == len(before[0]) and report.seals == 0
    audit.seal_chains()
    assert audit.verify_chain().seals == 1
