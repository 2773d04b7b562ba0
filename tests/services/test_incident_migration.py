"""Migration 0006: the incident table, with an open incident for every row that had already given up."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from engine import ManualClock
from kitas.extensions import db
from kitas.models import Incident, Timer
from kitas.transactions import write_transaction
from tests.services.incident_cases import deploy_broken, start


def test_upgrade_opens_incidents_for_rows_that_gave_up_and_downgrade_drops_them(
    ctx: Flask, users: dict[str, Any], clock: ManualClock
) -> None:
    deploy_broken()
    waiting_id = start(users["applicant"], path="timer").id
    start(users["applicant"], path="timer")  # a healthy one, not given up
    with write_transaction():
        timer = db.session.scalars(select(Timer).where(Timer.application_id == waiting_id)).one()
        timer.attempts, timer.gave_up_at, timer.last_error = 10, clock.now(), "gave up after 10 attempts"
        timer_id = timer.id
    db.session.remove()
    try:
        downgrade(revision="0005")
        assert "incident" not in inspect(db.engine).get_table_names()
        db.session.remove()
    finally:
        upgrade()
    [incident] = db.session.scalars(select(Incident)).all()
    assert (incident.kind, incident.application_id, incident.element_id) == ("timer_failing", waiting_id, "wait_hour")
    assert (incident.lease_kind, incident.lease_row_id, incident.attempts) == ("timer", timer_id, 10)
    assert incident.status == "open" and incident.open_key == f"timer:{timer_id}"
    assert incident.error == "gave up after 10 attempts"
