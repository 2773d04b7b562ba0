"""Timers: fired from the database by the scheduler, exactly once, idempotently, across processes."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, HumanTask, Timer
from kitas.services import cases, leases
from kitas.services.cases import timers
from kitas.services.deployments import deploy_path
from tests.conftest import DATA
from tests.services.helpers import (
    complete,
    open_task,
    request_corrections,
    start_until_payment,
    start_until_verification,
)


def _timer(application_id: int, element_id: str) -> Timer:
    return db.session.scalars(
        select(Timer).where(Timer.application_id == application_id, Timer.element_id == element_id)
    ).one()


def test_unpaid_case_expires_when_the_timer_is_due(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = start_until_payment(users)
    assert timers.fire_due_timers("test").fired == []  # not due yet
    clock.advance(days=7, seconds=1)
    report = timers.fire_due_timers("test")
    assert len(report.fired) == 1
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert stored.status == "expired" and stored.closed_at is not None
    assert _timer(application.id, "payment_deadline").status == "fired"
    fired = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timer_fired")).one()
    assert fired.detail["timer"] == "payment_deadline" and fired.actor == "scheduler test"


def test_timer_due_while_the_scheduler_was_down_fires_at_restart(
    ctx: Flask, worker: int, users: dict[str, Any], clock: Any
) -> None:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    from kitas.jobs.scheduler import JOB_ID, start_background

    application = start_until_payment(users)
    application_id = application.id
    clock.advance(days=30)  # the scheduler was down for a month
    db.session.remove()
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def listener(event: Any) -> None:
        if event.job_id != JOB_ID:
            return
        outcome["error"] = getattr(event, "exception", None)
        outcome["report"] = getattr(event, "retval", None)
        done.set()

    scheduler = start_background(ctx, owner="restarted")
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    try:
        assert done.wait(timeout=30), "the first timer pass did not run"
    finally:
        scheduler.shutdown(wait=True)
    assert outcome["error"] is None
    assert db.session.get(Application, application_id).status == "expired"


def test_timer_of_a_completed_task_does_nothing(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = start_until_verification(users)
    sla = _timer(application.id, "verify_sla")
    complete(application.id, "verify_documents", users["verifier"])
    db.session.expire_all()
    assert _timer(application.id, "verify_sla").status == "cancelled"  # projections cancel it at once
    # A row still marked pending (say, claimed just before the completion) is found stale when fired.
    row = _timer(application.id, "verify_sla")
    row.status, row.lease_owner = "pending", "test"
    db.session.commit()
    version = db.session.get(Application, application.id).version
    clock.advance(days=6)
    assert timers.fire_timer(sla.id, "test") == "stale"
    db.session.expire_all()
    assert _timer(application.id, "verify_sla").status == "cancelled"
    assert db.session.get(Application, application.id).version == version
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "timer_fired")) == 0


def test_firing_twice_fires_once(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = start_until_payment(users)
    clock.advance(days=8)
    claimed = timers.claim_due_timers("test")
    assert len(claimed) == 1
    assert timers.fire_timer(claimed[0], "test") == "fired"
    assert timers.fire_timer(claimed[0], "test") == "skipped"
    assert timers.claim_due_timers("test") == []
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "expired"


def test_a_leased_timer_is_not_fired_by_another_scheduler(worker: int, users: dict[str, Any], clock: Any) -> None:
    start_until_payment(users)
    clock.advance(days=8)
    claimed = timers.claim_due_timers("first", lease_seconds=60)
    assert timers.claim_due_timers("second") == []
    assert timers.fire_timer(claimed[0], "second") == "skipped"
    clock.advance(seconds=61)  # the first scheduler died; its lease ran out
    assert timers.claim_due_timers("second") == claimed
    assert timers.fire_timer(claimed[0], "second") == "fired"


def test_sla_timer_escalates_the_task_and_the_case_goes_on(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = start_until_verification(users)
    clock.advance(days=5, minutes=1)
    assert len(timers.fire_due_timers("test").fired) == 1
    db.session.expire_all()
    task = open_task(application.id, "verify_documents")
    assert task.escalated_at == clock.now()
    assert db.session.get(Application, application.id).status == "in_verification"
    complete(application.id, "verify_documents", users["verifier"])
    assert db.session.get(Application, application.id).status == "awaiting_approval"


def test_correction_deadline_expires_the_case(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "Blurry scan")
    assert open_task(application.id, "submit_corrections").due_at == clock.now() + timedelta(days=14)
    clock.advance(days=14, seconds=1)
    timers.fire_due_timers("test")
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "expired"
    assert db.session.scalar(select(func.count()).select_from(HumanTask)) == 0


def _scheduler_process(database_url: str, now_iso: str, owner: str, queue: Any, barrier: Any) -> None:
    """A separate scheduler process: fire due timers in small batches until none is left."""
    from datetime import datetime

    from app import create_app
    from engine import ManualClock

    clock = ManualClock(datetime.fromisoformat(now_iso))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"}, clock=clock)
    fired: list[int] = []
    with app.app_context():
        barrier.wait(timeout=120)  # start together, so the two really compete
        while True:
            report = timers.fire_due_timers(owner, limit=5)
            fired.extend(report.fired)
            if not report.fired and not report.failed:
                break
    queue.put(fired)


@pytest.mark.slow
def test_two_scheduler_processes_never_fire_a_timer_twice(
    ctx: Flask, users: dict[str, Any], clock: Any, database_url: str
) -> None:
    deploy_path(DATA / "timer_only.bpmn", DATA)
    applicant = users["applicant"]
    ids = [
        cases.start_process("timer_only", applicant, kitas_type="test", index_code="T", data={"fired_count": 0}).id
        for _ in range(200)
    ]
    assert db.session.scalar(select(func.count()).where(Timer.status == "pending")) == 200
    db.session.remove()

    spawn = multiprocessing.get_context("spawn")
    queue, barrier = spawn.Queue(), spawn.Barrier(2)
    now = (clock.now() + timedelta(hours=2)).isoformat()
    processes = [
        spawn.Process(target=_scheduler_process, args=(database_url, now, f"p{i}", queue, barrier)) for i in range(2)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    first, second = (set(r) for r in results)
    assert len(first) + len(second) == 200 and not first & second
    if db.engine.dialect.name == "postgresql":
        # SKIP LOCKED shares the rows out; SQLite's single writer may let one process take them all.
        assert first and second, "both schedulers should have taken part"
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "timer_fired")) == 200
    assert db.session.scalar(select(func.count()).where(Timer.status == "fired")) == 200
    for application_id in ids[:20]:
        application = db.session.get(Application, application_id)
        assert application.status == "done"
        assert cases.read_runtime(application).data["fired_count"] == 1


def test_a_failing_timer_does_not_hold_up_the_others(worker: int, users: dict[str, Any], clock: Any) -> None:
    broken = start_until_payment(users)
    healthy = start_until_payment(users)
    broken_row = db.session.get(Application, broken.id)
    broken_row.workflow_state = "{damaged"
    db.session.commit()
    clock.advance(days=8)
    report = timers.fire_due_timers("test")
    assert len(report.failed) == 1 and len(report.fired) == 1
    db.session.expire_all()
    assert db.session.get(Application, healthy.id).status == "expired"
    failed = _timer(broken.id, "payment_deadline")
    assert failed.status == "pending" and "corrupt" in (failed.last_error or "")
    # retried after the timer policy's delay, not in a loop
    assert failed.next_attempt_at is not None and failed.next_attempt_at > clock.now()


def test_a_timer_that_keeps_failing_gives_up_and_becomes_an_incident(
    worker: int, users: dict[str, Any], clock: Any
) -> None:
    broken = start_until_payment(users)
    broken_row = db.session.get(Application, broken.id)
    broken_row.workflow_state = "{damaged"
    db.session.commit()
    clock.advance(days=8)
    policy = timers.DUE_TIMERS.kind.policy
    for attempt in range(1, policy.max_attempts + 1):
        assert len(timers.fire_due_timers("test").failed) == 1
        row = _timer(broken.id, "payment_deadline")
        assert row.attempts == attempt
        if attempt < policy.max_attempts:
            assert row.next_attempt_at == clock.now() + policy.delay(attempt)
            clock.set(row.next_attempt_at)
    assert row.gave_up_at == clock.now() and row.status == "pending"
    assert timers.fire_due_timers("test").failed == []  # no more attempts until an administrator retries
    [incident] = leases.given_up()
    assert (incident.kind, incident.row_id) == ("timer", row.id) and "corrupt" in (incident.last_error or "")
