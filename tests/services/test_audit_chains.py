"""Where audit rows go and what appending costs: a chain per case, user and process, shards for the rest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from engine import ManualClock
from kitas.extensions import db
from kitas.models import Application, AuditEvent, AuditSeal
from kitas.services import accounts, audit, cases
from kitas.services.health import ping_database
from kitas.transactions import write_transaction
from tests.conftest import ROOT


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block."""
    sent: list[str] = []

    def _seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", _seen)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", _seen)


def _locked(application_id: int) -> Application | None:
    """The case row, locked as a step locks it (only the case row: its joined definition stays unlocked)."""
    query = select(Application).where(Application.id == application_id).with_for_update(of=Application)
    return db.session.scalars(query).first()


def _chains(action: str) -> list[tuple[str, int]]:
    db.session.rollback()
    return [
        (row.chain, row.seq)
        for row in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    ]


def test_appending_to_a_locked_case_costs_one_insert(worker: int, users: dict[str, Any]) -> None:
    application_id = cases.start_case("worker", users["applicant"]).id
    with write_transaction():
        application = _locked(application_id)
        assert application is not None
        before, verifier = application.audit_seq, users["verifier"]
        assert verifier.label  # loaded, as the user of a request is
        entries = [("note_added", {"note": "checked"}, verifier, None), ("note_added", {"note": "again"}, None, "bot")]
        with _statements() as sent:
            seq, _digest = audit.append_to_case(application, entries)
        assert len(sent) == 1 and sent[0].lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"), sent
        assert seq == before + 2  # the head is stored by the caller, with the case row's own UPDATE
        db.session.rollback()


def test_a_row_recorded_for_a_locked_case_keeps_the_case_version(worker: int, users: dict[str, Any]) -> None:
    application_id = cases.start_case("worker", users["applicant"]).id
    with write_transaction():
        application = _locked(application_id)
        assert application is not None
        before, version = application.audit_seq, application.version
        row = audit.record("note_added", {"note": "checked"}, user=users["verifier"], case=application)
        assert (row.chain, row.seq, application.audit_seq) == (f"case:{application_id}", before + 1, before + 1)
    db.session.rollback()
    stored = db.session.get(Application, application_id)
    assert stored is not None and (stored.audit_seq, stored.version) == (before + 1, version)
    assert audit.verify_chain().ok


def test_each_kind_of_row_goes_to_its_own_chain(worker: int, users: dict[str, Any]) -> None:
    application_id = cases.start_case("worker", users["applicant"]).id
    with write_transaction():
        audit.record("note_added", {"n": 1}, user=users["verifier"], application_id=application_id)
        audit.record("looked_around", {"n": 2}, user=users["verifier"])
        audit.record("visited", {"n": 3}, actor="anonymous (198.51.100.1)")
    assert _chains("case_started") == [(f"case:{application_id}", 1)]
    assert _chains("note_added") == [(f"case:{application_id}", 2)]
    assert _chains("looked_around") == [(f"user:{users['verifier'].id}", 1)]
    shared = [(f"process:{p.stem}", 1) for p in sorted((ROOT / "bpmn" / "shared").glob("*.bpmn"))]
    assert sorted(_chains("definition_deployed")) == sorted([("process:kitas_worker", 1), *shared])
    [(shard, seq)] = _chains("visited")
    assert shard == audit.shard_chain("anonymous (198.51.100.1)", {"n": 3}) and seq == 1
    assert audit.verify_chain().ok


def test_rows_of_no_case_and_no_user_spread_over_a_bounded_set_of_shards(ctx: Flask) -> None:
    names = {audit.shard_chain("anonymous (203.0.113.7)", {"account": f"a{i}@example.org"}) for i in range(200)}
    assert names == {f"actor:{n}" for n in range(audit.ACTOR_SHARDS)}
    for _ in range(3):  # one visitor failing again and again still writes one valid chain per shard
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate("nobody@example.org", "wrong password", "203.0.113.7")
    assert {name.split(":")[0] for name, _ in _chains("login_failed")} == {"actor"}
    assert audit.verify_chain().ok


def test_a_case_given_with_another_id_is_refused(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    with pytest.raises(ValueError), write_transaction():
        audit.record("odd", {}, case=application, application_id=application.id + 1)
    with pytest.raises(ValueError), write_transaction():
        audit.record("odd", {}, application_id=application.id, chain="user:1")


def test_the_seal_command_seals_what_moved(ctx: Flask, worker: int) -> None:
    runner = ctx.test_cli_runner()
    # The deployments of the worker and of the five shared steps it calls, each in its process's chain.
    assert "sealed 6 chain heads" in runner.invoke(args=["audit", "seal"]).output
    assert "sealed 0 chain heads" in runner.invoke(args=["audit", "seal"]).output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit chain intact: 6 rows in 6 chains, 2 seals" in result.output


def test_the_seal_job_seals_what_moved_once_per_interval(
    ctx: Flask, worker: int, users: dict[str, Any], clock: ManualClock
) -> None:
    application_id = cases.start_case("worker", users["applicant"]).id
    assert audit.seal_due() == 7  # the case, the deployments of kitas_worker and of its five shared steps
    assert audit.seal_due() == 0  # not due again yet
    with write_transaction():
        audit.record("note_added", {"n": 1}, user=users["verifier"], application_id=application_id)
    clock.advance(seconds=ctx.config["KITAS_AUDIT_SEAL_INTERVAL"] - 1)
    assert audit.seal_due() == 0
    clock.advance(seconds=1)
    assert audit.seal_due() == 1  # only the case moved
    clock.advance(seconds=ctx.config["KITAS_AUDIT_SEAL_INTERVAL"])
    assert audit.seal_due() == 0  # nothing moved: an empty seal, whose time says when the next is due
    seals = db.session.scalars(select(AuditSeal).order_by(AuditSeal.seq)).all()
    application = db.session.get(Application, application_id)
    assert application is not None
    assert [seal.heads for seal in seals[1:]] == [{f"case:{application_id}": [2, application.audit_hash]}, {}]
    assert audit.verify_chain().seals == 3


def test_the_seal_job_is_in_the_scheduler() -> None:
    from kitas.jobs.scheduler import OUTBOX_JOBS

    assert ("seal_audit_chains", "kitas.services.audit:seal_due") in OUTBOX_JOBS


def test_ping_reports_how_far_the_trail_has_grown(worker: int, users: dict[str, Any]) -> None:
    before = ping_database()
    cases.start_case("worker", users["applicant"])
    assert ping_database() == before + 1
    assert before == db.session.scalar(select(func.count()).select_from(AuditEvent)) - 1
