"""Migration 0007 (second factors, recovery codes, audit quotas, login factors, templated mail) goes down and up."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from kitas.extensions import db
from kitas.models import LoginAttempt, Notification
from kitas.services import accounts
from tests.factories import current_code


def test_0007_downgrades_with_data_and_upgrades_again(ctx: Flask, users: dict[str, Any]) -> None:
    vera = users["verifier"]
    accounts.verify_sign_in_code(vera, current_code(), "198.51.100.1")  # a code attempt row
    with pytest.raises(accounts.LoginRefused):
        accounts.authenticate(vera.email, "wrong password", "198.51.100.1")
    accounts.request_password_reset(users["applicant"].email, "198.51.100.1")  # a templated outbox row
    db.session.remove()
    try:
        downgrade(revision="0006")
        tables = set(inspect(db.engine).get_table_names())
        assert not {"second_factor", "recovery_code", "audit_quota"} & tables
        columns = {c["name"] for c in inspect(db.engine).get_columns("login_attempt")}
        assert "factor" not in columns
        # What the older code could not read is gone; the password attempt stays.
        assert db.session.execute(text("SELECT count(*) FROM login_attempt")).scalar() == 1
        assert db.session.execute(text("SELECT count(*) FROM notification")).scalar() == 0
        db.session.remove()
    finally:
        upgrade()
    assert {c["name"] for c in inspect(db.engine).get_columns("notification")} >= {"template"}
    assert db.session.scalars(select(LoginAttempt.factor)).all() == ["password"]
    assert db.session.scalars(select(Notification)).all() == []
