"""Migration 0018: the case_milestone projection, backfilled from what the audit trail and case rows say."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from kitas.extensions import db
from kitas.models import CaseMilestone
from tests.services.helpers import complete, start_until_verification


def test_upgrade_backfills_payments_closed_cases_and_officers_decisions(
    ctx: Flask, worker: int, users: dict[str, Any], clock: Any
) -> None:
    application = start_until_verification(users)
    clock.advance(days=1)
    complete(
        application.id,
        "verify_documents",
        users["verifier"],
        verification_decision="reject",
        verification_reason="The sponsor does not exist",
    )
    verifier_id = users["verifier"].id
    written = sorted(db.session.execute(select(CaseMilestone.kind, CaseMilestone.day, CaseMilestone.actor_id)).all())
    db.session.remove()
    try:
        downgrade(revision="0015_offices")
        assert "case_milestone" not in inspect(db.engine).get_table_names()
        assert "escalated_by" not in {c["name"] for c in inspect(db.engine).get_columns("human_task")}
        db.session.remove()
    finally:
        upgrade()
    backfilled = sorted(db.session.execute(select(CaseMilestone.kind, CaseMilestone.day, CaseMilestone.actor_id)).all())
    # What the audit rows cannot tell (the decision as a change of status, who closed the case) is the only
    # difference.
    assert [row[:2] for row in written if row[0] != "decided"] == [row[:2] for row in backfilled]
    assert ("officer_decision", date(2026, 1, 6), verifier_id) in backfilled
    assert {row[0] for row in backfilled} == {"paid", "officer_decision", "completed"}
