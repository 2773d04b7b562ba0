"""Incidents: an engine step that fails keeps the case consistent and opens one incident; retry and resolve."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine import ManualClock
from kitas.adapters import sandbox_provider
from kitas.extensions import db
from kitas.models import AuditEvent, HumanTask, Payment, PaymentEvent, SandboxWebhook, Timer
from kitas.services import audit, cases, leases, notifications, payments, sandbox_bank
from kitas.services.cases import taskforms, timeline, timers
from kitas.services.errors import Conflict, Forbidden, InvalidInput
from kitas.services.incidents import actions, records
from kitas.transactions import write_transaction
from tests.adapters.live_server import public_url
from tests.adapters.merchant import closed_url
from tests.services.helpers import open_task, start_working
from tests.services.incident_cases import (
    deploy_broken,
    deploy_fixed,
    deploy_variant,
    fresh,
    incidents,
    start,
)
from tests.services.test_notifications import FailingMailer


@pytest.fixture()
def broken(ctx: Flask) -> int:
    """The scenario diagram with failing scripts, deployed as version 1."""
    return deploy_broken().definition_id


def _audits(application_id: int, action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.application_id == application_id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )


def _submitted(users: dict[str, Any]) -> int:
    """A form-path case whose applicant submitted the form; the script after it failed."""
    application = start(users["applicant"], path="form")
    task = open_task(application.id, "submit_answers")
    cases.complete_task(application.id, task.task_id, users["applicant"], {"amount": 5, "note": "kept"})
    return application.id


# ------------------------------------------------------------------- a failing step is kept, not lost


def test_a_script_failing_after_a_form_keeps_the_submission_and_opens_an_incident(
    broken: int, users: dict[str, Any]
) -> None:
    application_id = _submitted(users)
    application = fresh(application_id)
    assert application.version == 2 and application.status == "draft" and application.closed_at is None
    assert db.session.scalars(select(HumanTask).where(HumanTask.application_id == application_id)).all() == []
    runtime = cases.read_runtime(application)  # the stored state restores: nothing half-written
    [failed] = runtime.failed_steps()
    assert failed.element_id == "compute_fee" and runtime.ready_user_tasks() == []
    assert runtime.data["amount"] == 5 and runtime.data["note"] == "kept"  # what the applicant typed is kept
    [incident] = incidents(application_id)
    assert (incident.kind, incident.element_id, incident.status, incident.attempts) == (
        "script_error",
        "compute_fee",
        "open",
        1,
    )
    assert "name 'rate' is not defined" in incident.error
    [completed] = _audits(application_id, "task_completed")
    [opened] = _audits(application_id, "incident_opened")
    assert completed.detail["task"] == "submit_answers" and sorted(completed.detail["changed"]) == ["amount", "note"]
    assert opened.actor == "engine" and opened.detail["element"] == "compute_fee"
    assert audit.verify_chain().ok


def test_the_same_failure_again_counts_on_the_one_open_incident(broken: int, users: dict[str, Any]) -> None:
    application_id = _submitted(users)
    [incident] = incidents(application_id)
    outcome = actions.retry(incident.id, users["admin"])
    assert not outcome.went_on and outcome.moved_to is None and "rate" in (outcome.error or "")
    [again] = incidents(application_id)
    assert (again.id, again.attempts, again.retries, again.status) == (incident.id, 2, 1, "open")
    assert [f.element_id for f in cases.read_runtime(fresh(application_id)).failed_steps()] == ["compute_fee"]
    [retried] = _audits(application_id, "incident_retried")
    assert retried.actor_id == users["admin"].id and retried.detail["failed_again"] is True


def test_retry_after_a_fixed_deployment_moves_the_case_and_it_goes_on(broken: int, users: dict[str, Any]) -> None:
    application_id = _submitted(users)
    [incident] = incidents(application_id)
    assert deploy_fixed().version == 2
    outcome = actions.retry(incident.id, users["admin"])
    assert outcome.went_on and outcome.moved_to == 2 and outcome.error is None
    application = fresh(application_id)
    assert application.definition.version == 2 and application.status == "in_verification"
    assert cases.read_runtime(application).data["fee"] == 10
    [resolved] = incidents(application_id)
    assert resolved.status == "resolved" and resolved.resolved_by_id == users["admin"].id
    assert resolved.open_key is None and "went on on version 2" in (resolved.note or "")
    review = open_task(application_id, "review")
    start_working(application_id, review, users["verifier"])
    cases.complete_task(application_id, review.task_id, users["verifier"], {"remark": "fine"})
    assert fresh(application_id).status == "approved" and fresh(application_id).closed_at is not None
    assert audit.verify_chain().ok


def test_a_newer_version_without_the_cases_elements_is_not_used(broken: int, users: dict[str, Any]) -> None:
    application_id = _submitted(users)
    [incident] = incidents(application_id)
    deploy_variant('"compute_fee"', '"compute_fee_v2"')
    outcome = actions.retry(incident.id, users["admin"])
    assert not outcome.went_on and outcome.moved_to is None
    assert "version 2" in (outcome.not_moved or "") and "compute_fee" in (outcome.not_moved or "")
    assert fresh(application_id).definition.version == 1


def test_a_resolved_incident_is_not_retried_or_resolved_again(broken: int, users: dict[str, Any]) -> None:
    application_id = _submitted(users)
    [incident] = incidents(application_id)
    actions.resolve(incident.id, users["admin"], "Case withdrawn by phone; nothing to run.")
    with pytest.raises(Conflict, match="already resolved by Ada Admin"):
        actions.retry(incident.id, users["admin"])
    with pytest.raises(Conflict, match="already resolved"):
        actions.resolve(incident.id, users["admin"], "again")


def test_nothing_to_run_and_no_newer_version_is_a_clear_refusal(
    broken: int, users: dict[str, Any], clock: ManualClock
) -> None:
    application = start(users["applicant"], path="form")
    with write_transaction():  # an incident of a case where nothing waits in ERROR (a rolled-back form's)
        records.open_incident(
            application_id=application.id, element_id="submit_answers", kind="script_error", error="x", now=clock.now()
        )
    [incident] = incidents(application.id)
    with pytest.raises(Conflict, match="nothing of case .* waits to be run again.*no newer version"):
        actions.retry(incident.id, users["admin"])
    assert incidents(application.id)[0].retries == 0  # the refused retry changed nothing


def test_a_timer_whose_next_script_fails_fires_and_the_case_waits_as_an_incident(
    broken: int, users: dict[str, Any], clock: ManualClock
) -> None:
    application = start(users["applicant"], path="timer")
    clock.advance(hours=1, seconds=1)
    report = timers.fire_due_timers("test")
    assert len(report.fired) == 1 and report.failed == []  # the timer did its part: no retry storm
    timer = db.session.scalars(select(Timer).where(Timer.application_id == application.id)).one()
    assert timer.status == "fired" and timer.gave_up_at is None
    [incident] = incidents(application.id)
    assert (incident.kind, incident.element_id) == ("script_error", "after_timer")
    deploy_fixed()
    assert actions.retry(incident.id, users["admin"]).went_on
    stored = fresh(application.id)
    assert stored.status == "approved" and cases.read_runtime(stored).data["expired"] is True


def test_a_payment_credited_before_a_failing_script_is_kept(
    broken: int, users: dict[str, Any], clock: ManualClock
) -> None:
    application = start(users["applicant"], path="message", fee_amount=500_000)
    view = payments.billing_for(application.reference, users["applicant"])
    assert view.billing_code is not None
    sandbox_bank.pay(view.billing_code, 500_000)
    body = db.session.scalars(select(SandboxWebhook)).one().body.encode()
    headers = {"X-Sandbox-Signature": sandbox_provider.sign(body, "test-webhook-secret", int(clock.now().timestamp()))}
    assert payments.handle_webhook("sandbox", body, headers) == payments.ACCEPTED
    payment = db.session.scalars(select(Payment).where(Payment.application_id == application.id)).one()
    assert payment.status == "paid" and db.session.scalars(select(PaymentEvent)).one().outcome == "accepted"
    [incident] = incidents(application.id)
    assert (incident.kind, incident.element_id) == ("script_error", "after_payment")
    assert "exchange_rate" in incident.error
    assert cases.read_runtime(fresh(application.id)).waiting_messages() == []  # the payment is not asked again


def test_a_failing_first_step_starts_the_case_with_an_incident(broken: int, users: dict[str, Any]) -> None:
    application = start(users["applicant"])  # no path: the gateway's condition cannot be evaluated
    stored = fresh(application.id)
    assert stored.status == "draft" and stored.version == 1
    [incident] = incidents(application.id)
    assert (incident.kind, incident.element_id) == ("script_error", "gw_path") and "path" in incident.error
    assert [a.action for a in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))][-2:] == [
        "case_started",
        "incident_opened",
    ]


def test_a_forms_own_failing_script_rolls_back_keeps_what_was_typed_and_opens_an_incident(
    ctx: Flask, users: dict[str, Any]
) -> None:
    anchor = "</bpmn:extensionElements>\n      <bpmn:incoming>flow_form</bpmn:incoming>"
    script = "<spiffworkflow:postScript>checked = missing_name</spiffworkflow:postScript>\n"
    deploy_variant(anchor, script + anchor)
    application = start(users["applicant"], path="form")
    task = open_task(application.id, "submit_answers")
    with pytest.raises(taskforms.TaskFormRejected) as rejected:
        taskforms.submit(application.reference, task.task_id, users["applicant"], {"amount": ["7"]}, {})
    assert rejected.value.errors == {"": [taskforms.NOT_ACCEPTED]}
    assert rejected.value.page.values["amount"] == 7
    stored = fresh(application.id)
    assert stored.version == 1 and stored.status == "draft"  # rolled back: the task is still open
    kept = open_task(application.id, "submit_answers")
    assert kept.draft == {"amount": 7}  # and what was typed waits as a draft
    [incident] = incidents(application.id)
    assert (incident.kind, incident.element_id) == ("script_error", "submit_answers")
    assert "missing_name" in incident.error


def test_a_time_limit_is_its_own_kind() -> None:
    from engine import ScriptError

    for limit in ("cpu", "memory", "time"):
        assert records.kind_of(ScriptError("the script was stopped", "x", limit=limit)) == "time_limit"
    # The words alone do not make a limit: only the sandbox, which stopped the code, says so.
    assert records.kind_of(ScriptError("ValueError: over the time limit of 1 s", "x")) == "script_error"
    assert records.kind_of(ScriptError("Line 1: NameError: name 'a' is not defined", "x")) == "script_error"
    assert records.kind_of(ValueError("other")) == "engine_error"


# ----------------------------------------------------------------------------- leases that give up


def test_a_timer_that_keeps_failing_becomes_an_incident_and_retry_queues_it_again(
    broken: int, users: dict[str, Any], clock: ManualClock
) -> None:
    application = start(users["applicant"], path="timer")
    damaged = fresh(application.id)
    damaged.workflow_state = "{damaged"
    db.session.commit()
    clock.advance(hours=2)
    policy = timers.DUE_TIMERS.kind.policy
    for attempt in range(1, policy.max_attempts + 1):
        assert len(timers.fire_due_timers("test").failed) == 1
        # retried quietly until the last attempt; only then does an administrator need to know
        assert [i.kind for i in incidents()] == (["timer_failing"] if attempt == policy.max_attempts else [])
        clock.advance(hours=1)
    [incident] = incidents(application.id)
    timer = db.session.scalars(select(Timer)).one()
    assert (incident.lease_kind, incident.lease_row_id, incident.element_id) == ("timer", timer.id, "wait_hour")
    assert incident.attempts == policy.max_attempts and "corrupt" in incident.error
    outcome = actions.retry(incident.id, users["admin"])
    assert outcome.requeued and outcome.went_on
    db.session.expire_all()
    timer = db.session.get(Timer, timer.id)
    assert timer is not None and (timer.gave_up_at, timer.attempts) == (None, 0)
    assert incidents(application.id)[0].status == "resolved"
    assert _audits(application.id, "incident_retried")[0].detail["requeued"] is True


def test_an_undeliverable_callback_becomes_an_incident_of_its_case(
    ctx: Flask, broken: int, users: dict[str, Any], clock: ManualClock
) -> None:
    application = start(users["applicant"], path="message", fee_amount=500_000)
    view = payments.billing_for(application.reference, users["applicant"])
    assert view.billing_code is not None
    sandbox_bank.pay(view.billing_code, 500_000)
    with public_url(ctx, closed_url()):  # nothing answers where the service says it is
        with write_transaction():
            db.session.scalars(select(SandboxWebhook)).one().attempts = leases.KINDS["webhook"].policy.max_attempts - 1
        assert sandbox_bank.send_due_notices() == 1
    [incident] = incidents(application.id)
    assert (incident.kind, incident.lease_kind, incident.application_id) == (
        "callback_undeliverable",
        "webhook",
        application.id,
    )
    assert incident.error.startswith("gave up after 15 attempts")
    assert actions.retry(incident.id, users["admin"]).requeued
    assert db.session.scalars(select(SandboxWebhook)).one().gave_up_at is None


def test_an_undeliverable_notification_becomes_an_incident(
    ctx: Flask, users: dict[str, Any], clock: ManualClock
) -> None:
    with write_transaction():
        notifications.notify(db.session.merge(users["applicant"]), "Hello", "Body", channels=("email",))
    for _ in range(leases.KINDS["notification"].policy.max_attempts):
        notifications.deliver_due(mailer=FailingMailer())
        clock.advance(hours=7)
    [incident] = incidents()
    assert (incident.kind, incident.lease_kind, incident.application_id) == (
        "notification_undeliverable",
        "notification",
        None,
    )
    assert "unreachable" in incident.error


# ------------------------------------------------------------------------------------------ resolve


@pytest.mark.parametrize("note", ["", "   \n ", None])
def test_resolving_needs_a_note(broken: int, users: dict[str, Any], note: str | None) -> None:
    application_id = _submitted(users)
    [incident] = incidents(application_id)
    with pytest.raises(InvalidInput) as refused:
        actions.resolve(incident.id, users["admin"], note)
    assert list(refused.value.errors) == ["note"]
    assert incidents(application_id)[0].status == "open"


def test_a_note_too_long_is_refused(broken: int, users: dict[str, Any]) -> None:
    application_id = _submitted(users)
    [incident] = incidents(application_id)
    with pytest.raises(InvalidInput, match="error"):
        actions.resolve(incident.id, users["admin"], "x" * (actions.NOTE_CHARS + 1))


def test_resolving_with_a_note_is_audited_and_frees_the_key_for_a_new_incident(
    broken: int, users: dict[str, Any], clock: ManualClock
) -> None:
    application_id = _submitted(users)
    [incident] = incidents(application_id)
    actions.resolve(incident.id, users["admin"], "  Told the analyst; the fee rule is being rewritten.  ")
    [resolved] = incidents(application_id)
    assert resolved.status == "resolved" and resolved.note == "Told the analyst; the fee rule is being rewritten."
    assert resolved.resolved_at is not None and resolved.open_key is None
    [row] = _audits(application_id, "incident_resolved")
    assert row.actor_id == users["admin"].id and row.detail["note"].startswith("Told the analyst")
    assert fresh(application_id).version == 2  # an audit row alone: the case's version stays
    with write_transaction():  # the same failure again opens a new incident
        records.open_incident(
            application_id=application_id, element_id="compute_fee", kind="script_error", error="again", now=clock.now()
        )
    assert [i.status for i in incidents(application_id)] == ["resolved", "open"]


def test_an_incident_of_no_case_is_resolved_in_the_admins_chain(
    ctx: Flask, users: dict[str, Any], clock: ManualClock
) -> None:
    with write_transaction():
        records.open_incident(application_id=None, element_id=None, kind="engine_error", error="x", now=clock.now())
    [incident] = incidents()
    with pytest.raises(Conflict, match="belongs to no case"):
        actions.retry(incident.id, users["admin"])
    actions.resolve(incident.id, users["admin"], "Checked: a test message.")
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "incident_resolved")).one()
    assert row.chain == f"user:{users['admin'].id}" and row.application_id is None


def test_only_administrators_handle_incidents(broken: int, users: dict[str, Any]) -> None:
    application_id = _submitted(users)
    [incident] = incidents(application_id)
    for who in ("verifier", "supervisor", "analyst", "applicant"):
        with pytest.raises(Forbidden):
            actions.retry(incident.id, users[who])
        with pytest.raises(Forbidden):
            actions.resolve(incident.id, users[who], "note")
    assert incidents(application_id)[0].status == "open"


def test_case_pages_see_the_open_incidents(broken: int, users: dict[str, Any]) -> None:
    application_id = _submitted(users)
    view = timeline.case_status(fresh(application_id), users["applicant"])
    [open_incident] = view.incidents
    assert open_incident.element_name == "Compute the fee"
    texts = [entry.text for entry in view.entries]
    assert not any("incident" in text.lower() for text in texts)  # the applicant is not told the details
    officer = timeline.case_status(fresh(application_id), users["verifier"])
    assert any("Stopped by a problem" in entry.text for entry in officer.entries)
