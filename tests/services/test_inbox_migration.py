"""Migration 0014: the inbox's columns, backfilled where SQL can (index code, the tasks' type), and
``kitas inbox-backfill`` for what only the workflow state holds (name, passport number)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from kitas.extensions import db
from kitas.models import Application, HumanTask
from tests.services.helpers import start_until_verification


def test_upgrade_backfills_index_codes_and_task_types_and_the_command_fills_names(
    ctx: Flask, worker: int, users: dict[str, Any]
) -> None:
    application_id = start_until_verification(users).id
    db.session.remove()
    try:
        downgrade(revision="0013_groups")
        assert "saved_filter" not in inspect(db.engine).get_table_names()
        assert "name_search" not in {c["name"] for c in inspect(db.engine).get_columns("application")}
        db.session.remove()
    finally:
        upgrade()
    row = db.session.get(Application, application_id)
    assert row is not None and row.index_code == "E23" and row.name_search is None
    task = db.session.scalars(select(HumanTask).where(HumanTask.application_id == application_id)).one()
    assert (task.kitas_type, task.index_code) == ("worker", "E23")
    db.session.remove()
    result = ctx.test_cli_runner().invoke(args=["inbox-backfill"])
    assert result.exit_code == 0 and "1 open cases filled" in result.output
    row = db.session.get(Application, application_id)
    assert row is not None and (row.applicant_name, row.passport_number) == ("Ana Lima", "FZ1234567")
    assert ctx.test_cli_runner().invoke(args=["inbox-backfill"]).output.startswith("0 open cases")
