"""Appends to different chains do not wait for each other; appends to one chain never share a seq.

Real threads on the real database. SQLite lets one writer at a time into the whole file, so the
tests that hold one chain's transaction open while another commits run on PostgreSQL only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from kitas.extensions import db
from kitas.models import Application, AuditEvent, ProcessDefinition, User
from kitas.services import audit, cases
from kitas.services.deployments import collect_files, deploy
from kitas.transactions import is_postgres, write_transaction

ROOT = Path(__file__).resolve().parent.parent.parent


def _locked(application_id: int) -> Application | None:
    """The case row, locked as a step locks it (only the case row: its joined definition stays unlocked)."""
    query = select(Application).where(Application.id == application_id).with_for_update(of=Application)
    return db.session.scalars(query).first()


def _append_to_case(application_id: int, action: str) -> None:
    """Lock the case row, as every step does, and append to its chain."""
    application = _locked(application_id)
    assert application is not None
    audit.record(action, {}, actor="test", case=application)


def _hold(app: Flask, work: Callable[[], None]) -> tuple[threading.Event, threading.Event, threading.Thread]:
    """Run ``work`` in a transaction on another thread and keep that transaction open until released."""
    holding, release = threading.Event(), threading.Event()

    def _run() -> None:
        with app.app_context():
            try:
                with write_transaction():
                    work()
                    db.session.flush()
                    holding.set()
                    release.wait(timeout=60)
            finally:
                db.session.remove()

    thread = threading.Thread(target=_run)
    thread.start()
    assert holding.wait(timeout=60), "the other transaction never started"
    return holding, release, thread


def _with_lock_timeout(milliseconds: int, work: Callable[[], None]) -> None:
    """Run ``work`` in a transaction that gives up waiting for a row lock after ``milliseconds``."""
    with write_transaction():
        db.session.execute(text(f"SET LOCAL lock_timeout = {int(milliseconds)}"))
        work()


def _committed() -> set[str]:
    """The actions of the audit rows committed so far."""
    db.session.rollback()
    return set(db.session.scalars(select(AuditEvent.action)))


def _require_postgres() -> None:
    if not is_postgres():
        pytest.skip("SQLite admits one writer at a time to the whole database")


def test_an_open_case_step_does_not_hold_up_another_case(ctx: Flask, worker: int, users: dict[str, Any]) -> None:
    _require_postgres()
    first = cases.start_case("worker", users["applicant"]).id
    second = cases.start_case("worker", users["other_applicant"]).id
    _, release, thread = _hold(ctx, lambda: _append_to_case(first, "held_open"))
    try:
        _with_lock_timeout(5000, lambda: _append_to_case(second, "went_ahead"))
        assert _committed() >= {"went_ahead"} and "held_open" not in _committed()  # while the first is open
        with pytest.raises(OperationalError):  # and the same case does wait: the lock the step relies on
            _with_lock_timeout(200, lambda: _append_to_case(first, "queued"))
    finally:
        release.set()
        thread.join(timeout=60)
    assert "held_open" in _committed() and "queued" not in _committed()
    assert audit.verify_chain().ok


def test_an_open_append_to_one_user_chain_does_not_hold_up_another(ctx: Flask, users: dict[str, Any]) -> None:
    _require_postgres()
    vera, sam = users["verifier"].id, users["supervisor"].id

    def _append_as(user_id: int, action: str) -> Callable[[], None]:
        return lambda: audit.record(action, {}, user=db.session.get(User, user_id))

    _, release, thread = _hold(ctx, _append_as(vera, "held_open"))
    try:
        _with_lock_timeout(5000, _append_as(sam, "went_ahead"))
        assert _committed() >= {"went_ahead"} and "held_open" not in _committed()
        with pytest.raises(OperationalError):
            _with_lock_timeout(200, _append_as(vera, "queued"))
    finally:
        release.set()
        thread.join(timeout=60)
    assert audit.verify_chain().ok


def _together(app: Flask, jobs: list[Callable[[], None]]) -> list[BaseException]:
    """Run every job on its own thread at the same moment; returns the errors they raised."""
    barrier, errors = threading.Barrier(len(jobs)), []

    def _run(job: Callable[[], None]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                job()
            except BaseException as exc:  # reported by the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=_run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _in_transaction(work: Callable[[], Any]) -> Callable[[], None]:
    def _run() -> None:
        with write_transaction():
            work()

    return _run


def test_appends_to_one_chain_at_once_never_share_a_seq(ctx: Flask, worker: int, users: dict[str, Any]) -> None:
    application_id = cases.start_case("worker", users["applicant"]).id
    vera = users["verifier"].id
    work: list[Callable[[], Any]] = []
    for n in range(4):  # the case given locked, the case by id only, and a user's chain
        work.append(lambda n=n: _append_to_case(application_id, f"case_{n}"))
        work.append(lambda n=n: audit.record("note", {"n": n}, actor="test", application_id=application_id))
        work.append(lambda n=n: audit.record("user_note", {"n": n}, user=db.session.get(User, vera)))
    jobs = [_in_transaction(job) for job in work]
    assert _together(ctx, jobs) == []
    db.session.rollback()  # a fresh snapshot: this session read the users before the threads wrote
    for chain, count in ((f"case:{application_id}", 9), (f"user:{vera}", 4)):
        seqs = db.session.scalars(select(AuditEvent.seq).where(AuditEvent.chain == chain).order_by(AuditEvent.seq))
        assert list(seqs) == list(range(1, count + 1))
    assert audit.verify_chain().ok


def test_deployments_of_one_process_at_once_get_one_version_each(ctx: Flask) -> None:
    from tests.conftest import deploy_shared_steps

    deploy_shared_steps()
    bpmn, files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", ROOT / "forms" / "schemas")
    variants = [bpmn.replace("</bpmn:definitions>", f"<!-- variant {n} --></bpmn:definitions>") for n in range(3)]
    assert all(variant != bpmn for variant in variants)
    errors = _together(ctx, [lambda v=v: deploy(v, files) for v in variants])
    assert errors == []
    db.session.rollback()
    versions = db.session.scalars(
        select(ProcessDefinition.version)
        .where(ProcessDefinition.process_id == "kitas_worker")
        .order_by(ProcessDefinition.version)
    ).all()
    assert versions == [1, 2, 3]
    assert db.session.scalar(select(func.count()).where(AuditEvent.chain == "process:kitas_worker")) == 3
    assert audit.verify_chain().ok
