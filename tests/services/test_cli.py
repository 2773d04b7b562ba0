"""The kitas command: init deploys every diagram, audit verify finds tampering."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import select, text

from kitas.extensions import db
from kitas.models import AuditEvent, ProcessDefinition
from kitas.services import cases
from tests.services.helpers import complete


def test_init_deploys_every_diagram_once(ctx: Any) -> None:
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    for process in ("kitas_worker", "kitas_investor", "kitas_student"):
        assert f"{process}: deployed as version 1" in result.output
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0
    for process in ("kitas_worker", "kitas_investor", "kitas_student"):
        assert f"{process}: unchanged, still version 1" in again.output
    # The shared steps first (the type diagrams call them), then every diagram of bpmn/, each once.
    bpmn = Path(current_app.config["KITAS_BPMN_DIR"])
    expected = {p.stem for p in (*bpmn.joinpath("shared").glob("*.bpmn"), *bpmn.glob("*.bpmn"))}
    assert {"shared_payment", "kitas_worker", "kitas_investor", "kitas_student"} <= expected
    deployed = db.session.scalars(select(ProcessDefinition.process_id).order_by(ProcessDefinition.id)).all()
    assert sorted(deployed) == sorted(expected)
    assert deployed.index("shared_payment") < deployed.index("kitas_worker")


def test_audit_verify_reports_the_first_broken_link(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    runner = current_app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    # Six deployments (five shared steps and the worker), the start and two steps.
    assert ok.exit_code == 0 and "audit chain intact: 9 rows" in ok.output

    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    target = rows[2]
    db.session.execute(
        text("UPDATE audit_event SET actor = :actor WHERE id = :id"),
        {"actor": "Mallory <m@evil.example>", "id": target.id},
    )
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at row {target.seq}" in broken.output and "changed after it was written" in broken.output


def test_audit_verify_notices_a_deleted_row(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": last.id})
    db.session.commit()
    result = current_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "removed" in result.output


def test_audit_detail_is_hashed_as_stored(worker: int, users: dict[str, Any]) -> None:
    from kitas.services import audit
    from kitas.transactions import write_transaction

    with write_transaction():
        audit.record("odd_detail", {"numbers": {1: "one"}, "when": "2026-01-01"}, actor="test")
    result = current_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_instance_secrets_are_private_and_shared_by_processes_that_start_together(tmp_path: Path) -> None:
    import stat

    from kitas.config import load_config

    first = load_config(tmp_path, {"SECRET_KEY": None})
    second = load_config(tmp_path, {"SECRET_KEY": None})
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) == 64
    for name in ("secret_key", "payment_webhook_secret"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_demo_passwords_are_kept_between_starts_unless_reset(
    ctx: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kitas.models import User
    from kitas.services.accounts.demo import PASSWORDS_FILE, ensure_demo_accounts
    from kitas.services.accounts.passwords import verify_password

    monkeypatch.setattr(ctx, "instance_path", str(tmp_path))
    first = {a.email: a.password for a in ensure_demo_accounts()}
    again = {a.email: a.password for a in ensure_demo_accounts()}
    assert again == first  # a second start shows the same passwords; a signed-in browser stays signed in
    kept = tmp_path / PASSWORDS_FILE
    assert kept.stat().st_mode & 0o777 == 0o600
    reset = {a.email: a.password for a in ensure_demo_accounts(reset=True)}
    assert set(reset) == set(first) and all(reset[e] != first[e] for e in first)
    db.session.expire_all()
    user = db.session.scalars(select(User).where(User.email == "verifier@example.com")).one()
    assert verify_password(user.password_hash, reset["verifier@example.com"])
    assert not verify_password(user.password_hash, first["verifier@example.com"])
    kept.write_text("not json", encoding="utf-8")  # a damaged file: new passwords, nothing breaks
    assert {a.email for a in ensure_demo_accounts()} == set(first)


def test_demo_officers_get_an_app_whose_code_a_command_prints(
    ctx: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from kitas.models import User
    from kitas.services import accounts
    from kitas.services.accounts.demo import PASSWORDS_FILE

    monkeypatch.setattr(ctx, "instance_path", str(tmp_path))
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    kept = json.loads((tmp_path / PASSWORDS_FILE).read_text(encoding="utf-8"))
    officers = ("verifier@example.com", "supervisor@example.com", "analyst@example.com", "admin@example.com")
    for email in officers:
        secret = kept[email]["totp_secret"]
        assert secret and f"{email:<26} key: {secret}" in result.output
    assert kept["applicant@example.com"]["totp_secret"] is None
    assert "kitas demo-code verifier@example.com" in result.output
    again = runner.invoke(args=["demo"])
    assert json.loads((tmp_path / PASSWORDS_FILE).read_text(encoding="utf-8")) == kept  # the same apps
    assert again.exit_code == 0

    printed = runner.invoke(args=["demo-code", "Verifier@Example.com"])
    assert printed.exit_code == 0, printed.output
    code = printed.stdout.strip()
    assert re.fullmatch(r"\d{6}", code) and "valid for another" in printed.stderr
    db.session.expire_all()
    verifier = db.session.scalars(select(User).where(User.email == "verifier@example.com")).one()
    assert accounts.is_enrolled(verifier)
    assert accounts.verify_sign_in_code(verifier, code, "127.0.0.1") == "totp"  # the code the app would show
    applicant = runner.invoke(args=["demo-code", "applicant@example.com"])
    assert applicant.exit_code == 1 and "not a demo account with an app" in applicant.stderr
    assert "verifier@example.com" in applicant.stderr


def test_an_older_demo_file_with_passwords_only_is_read(
    ctx: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from kitas.services.accounts.demo import PASSWORDS_FILE, ensure_demo_accounts

    monkeypatch.setattr(ctx, "instance_path", str(tmp_path))
    first = {a.email: a.password for a in ensure_demo_accounts()}
    (tmp_path / PASSWORDS_FILE).write_text(json.dumps(first), encoding="utf-8")  # as the previous version kept it
    again = ensure_demo_accounts()
    assert {a.email: a.password for a in again} == first
    assert all(a.totp_secret for a in again if a.role in ("verifier", "supervisor", "analyst", "admin"))


def test_the_demo_names_the_command_as_it_can_be_typed_from_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kitas.cli import _this_command

    program = tmp_path / ".venv" / "bin" / "kitas"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(program), "demo"])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert _this_command() == ".venv/bin/kitas"  # not on PATH: the path from here
    monkeypatch.setenv("PATH", str(program.parent))
    assert _this_command() == "kitas"  # on PATH: as typed


def test_demo_accounts_read_a_sensible_language(ctx: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kitas.models import User
    from kitas.services.accounts.demo import ensure_demo_accounts
    from kitas.services.accounts.preferences import set_language

    monkeypatch.setattr(ctx, "instance_path", str(tmp_path))
    ensure_demo_accounts()

    def language(email: str) -> str | None:
        db.session.expire_all()
        return db.session.scalars(select(User).where(User.email == email)).one().language

    # Immigration staff and the Indonesian employer read Bahasa Indonesia; the foreign applicant English.
    assert [language(f"{role}@example.com") for role in ("verifier", "supervisor", "sponsor", "admin")] == ["id"] * 4
    assert language("applicant@example.com") == "en"
    verifier = db.session.scalars(select(User).where(User.email == "verifier@example.com")).one()
    set_language(verifier.id, "en")
    ensure_demo_accounts()  # a language chosen with the switch is kept
    assert language("verifier@example.com") == "en"
