"""The case unit of work: one step, one transaction, a runtime reused only while nothing changed the case."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, HumanTask, Timer
from kitas.services import cases
from kitas.services.audit.refusals import record_refusal
from kitas.services.errors import Conflict, NotFound
from kitas.transactions import TransactionNested, UnsavedChanges, write_transaction
from tests.services.helpers import complete, open_task, start_until_payment, start_until_verification
from tests.worker_data import PAYMENT, form_data

WORKER_STEPS = ("verify_documents", "supervisor_approval", "book_biometrics", "capture_biometrics")
OFFICER = {"verify_documents": "verifier", "supervisor_approval": "supervisor", "capture_biometrics": "verifier"}


@pytest.fixture()
def no_cache(app: Flask) -> Any:
    """A way to run steps as another process would: without this process's cached runtimes."""

    class Switch:
        def __enter__(self) -> None:
            self.saved = app.config["KITAS_RUNTIME_CACHE"]
            app.config["KITAS_RUNTIME_CACHE"] = 0

        def __exit__(self, *exc: object) -> None:
            app.config["KITAS_RUNTIME_CACHE"] = self.saved

    return Switch()


def _trace(application_id: int) -> list[tuple[str, str]]:
    """What the projections and the case row say, in a form two runs can be compared by."""
    db.session.rollback()
    application = db.session.get(Application, application_id)
    assert application is not None
    tasks = db.session.scalars(select(HumanTask.element_id).where(HumanTask.application_id == application_id))
    timers = db.session.scalars(
        select(Timer.element_id).where(Timer.application_id == application_id, Timer.status == "pending")
    )
    return [("status", application.status), *(("task", t) for t in sorted(tasks)), *(("timer", t) for t in timers)]


def _run_to_the_end(users: dict[str, Any]) -> list[list[tuple[str, str]]]:
    application = start_until_verification(users)
    traces = [_trace(application.id)]
    for step in WORKER_STEPS:
        complete(application.id, step, users[OFFICER.get(step, "applicant")])
        traces.append(_trace(application.id))
    return traces


def test_cached_and_restored_runtimes_take_a_case_through_the_same_states(
    worker: int, users: dict[str, Any], no_cache: Any
) -> None:
    cached = _run_to_the_end(users)
    with no_cache:
        restored = _run_to_the_end(users)
    assert cached == restored
    assert cached[-1] == [("status", "permit_issued")]


def test_a_step_by_another_process_makes_the_cached_runtime_stale(
    worker: int, users: dict[str, Any], no_cache: Any
) -> None:
    application = start_until_verification(users)  # this process now holds the runtime of the paid case
    with no_cache:  # another process verifies the case: the stored state moves on, our cached copy does not
        complete(application.id, "verify_documents", users["verifier"])
    # Were the stale runtime used, the approval task would not exist in it and the step would fail.
    complete(application.id, "supervisor_approval", users["supervisor"])
    assert _trace(application.id)[0] == ("status", "biometrics_appointment")


def test_a_step_that_fails_leaves_neither_state_nor_cached_runtime_behind(worker: int, users: dict[str, Any]) -> None:
    application = start_until_verification(users)
    task_id = open_task(application.id, "verify_documents").task_id
    version = application.version
    with pytest.raises(RuntimeError, match="crash after the engine ran"):
        with cases.case_step(application.id) as step:
            step.run(lambda runtime: runtime.complete_user_task(task_id, form_data("verify_documents")))
            raise RuntimeError("crash after the engine ran")
    db.session.rollback()
    assert db.session.get(Application, application.id).version == version  # type: ignore[union-attr]
    assert open_task(application.id, "verify_documents").task_id == task_id
    # The runtime mutated by the failed step is gone: the task can still be completed.
    complete(application.id, "verify_documents", users["verifier"])
    assert _trace(application.id)[0] == ("status", "awaiting_approval")


def test_one_step_writes_state_projections_and_audit_together(worker: int, users: dict[str, Any]) -> None:
    application = start_until_payment(users)
    cases.deliver_message(application.id, "payment_received", PAYMENT, actor="bank")
    db.session.rollback()
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.application_id == application.id).order_by(AuditEvent.id)
    ).all()
    assert actions[-1] == "message_delivered"
    assert open_task(application.id, "verify_documents").due_at is not None  # the SLA timer's due time
    pending = db.session.scalars(
        select(Timer.element_id).where(Timer.application_id == application.id, Timer.status == "pending")
    ).all()
    assert "verify_sla" in pending


def test_a_refusal_is_audited_after_the_step_rolled_back(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    task_id = open_task(application.id, "applicant_data").task_id
    with pytest.raises(NotFound):
        cases.complete_task(application.id, task_id, users["other_applicant"], form_data("applicant_data"))
    db.session.rollback()
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert [(r.actor_id, r.detail["id"], r.detail["task_id"]) for r in refused] == [
        (users["other_applicant"].id, application.id, task_id)
    ]
    assert open_task(application.id, "applicant_data").task_id == task_id  # nothing of the step was kept


def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    task_id = open_task(application.id, "applicant_data").task_id
    with pytest.raises(Conflict, match="changed since you opened it"):
        cases.complete_task(
            application.id, task_id, users["applicant"], form_data("applicant_data"), expected_version=99
        )
    assert open_task(application.id, "applicant_data").task_id == task_id


def test_writing_transactions_do_not_nest(ctx: Flask, users: dict[str, Any]) -> None:
    with write_transaction():
        with pytest.raises(TransactionNested):
            with write_transaction():
                pass  # pragma: no cover - never entered
        # Recording a refusal must happen after the failing transaction, never inside it.
        with pytest.raises(TransactionNested):
            record_refusal(users["applicant"], "application", 1, "inside a transaction")


def test_changes_made_outside_a_writing_transaction_are_not_committed_by_the_next_one(
    ctx: Flask, users: dict[str, Any]
) -> None:
    user = db.session.merge(users["applicant"])
    user.full_name = "Changed Outside"
    with pytest.raises(UnsavedChanges):
        with write_transaction():
            pass  # pragma: no cover - never entered
    db.session.rollback()
    assert db.session.get(type(user), user.id).full_name == "Ana Applicant"  # type: ignore[union-attr]


def test_a_step_that_only_audits_keeps_the_version_and_extends_the_case_chain(
    worker: int, users: dict[str, Any]
) -> None:
    from kitas.services.audit import verify_chain
    from kitas.services.cases import claims

    application = start_until_verification(users)
    db.session.rollback()
    before = db.session.get(Application, application.id)
    assert before is not None
    version, seq = before.version, before.audit_seq
    claims.claim_task(before.reference, open_task(application.id, "verify_documents").task_id, users["verifier"])
    db.session.rollback()
    after = db.session.get(Application, application.id)
    assert after is not None
    assert after.version == version  # an officer's form opened before the claim still submits
    assert after.audit_seq == seq + 1
    assert verify_chain().ok
