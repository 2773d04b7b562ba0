"""Every path of the worker diagram at engine level, restoring from stored state between steps."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest

from engine import CaseRuntime, ManualClock, ProcessModel, TaskNotReady
from tests.engine import driver
from tests.worker_data import PAYMENT, form_data, worker_model
from workflows import catalog


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    return worker_model()


class Case(driver.Case):
    """A worker's case (E23), stored and restored between every step by the one driver."""

    def __init__(self, model: ProcessModel, clock: ManualClock):
        super().__init__(model, clock, {"kitas_type": "worker", "index_code": "E23"}, form_data)

    def until_payment(self) -> None:
        """The worker's own steps, up to the billing code."""
        for element in ("applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"):
            self.complete(element)

    def until_verification(self) -> None:
        self.until_payment()
        assert self.status() == "awaiting_payment"
        self.pay()
        assert self.ready() == ["verify_documents"]


@pytest.fixture()
def case(model: ProcessModel) -> Case:
    return Case(model, ManualClock())


def test_happy_path_reaches_permit(case: Case) -> None:
    assert case.ready() == ["applicant_data"] and case.status() == "draft"
    case.complete("applicant_data")
    case.complete("employment_data")
    assert case.status() == "awaiting_sponsor"
    case.complete("sponsor_confirmation")
    assert case.status() == "awaiting_documents"  # not "draft" again once the sponsor confirmed
    case.complete("document_checklist")
    assert case.status() == "awaiting_payment"
    assert case.data()["fee_amount"] == 1700000  # 12 months, from fees.dmn
    assert set(case.timers()) == {"payment_deadline"}
    case.pay()
    assert case.status() == "in_verification"
    assert set(case.timers()) == {"verify_sla"}
    case.complete("verify_documents")
    assert case.status() == "awaiting_approval"
    case.complete("supervisor_approval")
    assert case.ready() == ["book_biometrics"]
    case.complete("book_biometrics")
    case.complete("capture_biometrics")
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "permit_issued"
    assert runtime.data["permit_issued"] is True and runtime.data["permit_months"] == 12
    assert runtime.pending_timers() == [] and runtime.ready_user_tasks() == []
    # Each of the five called processes keeps its task tree (about 5 kB each) next to the worker's own.
    assert len(case.state) < 50_000


def test_fee_depends_on_contract_length(model: ProcessModel) -> None:
    for months, fee in ((6, 1200000), (12, 1700000), (24, 2200000)):
        case = Case(model, ManualClock())
        case.complete("applicant_data")
        case.complete("employment_data", contract_months=months)
        case.complete("sponsor_confirmation")
        case.complete("document_checklist")
        assert case.data()["fee_amount"] == fee


def test_interview_branch(case: Case) -> None:
    _approved(case, interview_required=True)
    assert case.ready() == ["conduct_interview"] and case.status() == "interview_scheduled"
    case.complete("conduct_interview")
    assert case.ready() == ["book_biometrics"]


def test_failed_interview_rejects(case: Case) -> None:
    _failed_interview(case)
    assert case.runtime.completed and case.status() == "rejected"


def test_correction_loop_twice(case: Case) -> None:
    case.until_verification()
    for round_ in (1, 2):
        case.complete(
            "verify_documents", verification_decision="corrections", verification_reason=f"Scan {round_} blurry"
        )
        assert case.ready() == ["submit_corrections"] and case.status() == "correction_requested"
        assert set(case.timers()) == {"correction_deadline"}
        assert (
            case.runtime.task_data(case.runtime.ready_user_tasks()[0].task_id)["verification_reason"]
            == f"Scan {round_} blurry"
        )
        case.complete("submit_corrections")
        assert case.ready() == ["verify_documents"]
    case.complete("verify_documents")
    assert case.ready() == ["supervisor_approval"]


def test_verifier_rejection(case: Case) -> None:
    _rejected_by_verifier(case)
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "rejected"
    assert runtime.data["verification_reason"] == "Forged RPTKA"


def test_supervisor_rejection(case: Case) -> None:
    _rejected_by_supervisor(case)
    assert case.runtime.completed and case.status() == "rejected"


def test_sponsor_declines(case: Case) -> None:
    _sponsor_declines(case)
    assert case.runtime.completed and case.status() == "sponsor_declined"


def test_payment_expiry(case: Case) -> None:
    case.until_payment()
    timer = case.timers()["payment_deadline"]
    assert (timer.due - case.clock.now()).days == 7
    assert case.fire("payment_deadline") is True
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "expired"
    assert runtime.waiting_messages() == []


def test_payment_after_expiry_is_refused(case: Case) -> None:
    from engine import NotWaiting

    case.until_payment()
    case.fire("payment_deadline")
    with pytest.raises(NotWaiting):
        case.pay()


def test_correction_deadline_expiry(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", verification_decision="corrections", verification_reason="Blurry")
    timer = case.timers()["correction_deadline"]
    assert (timer.due - case.clock.now()).days == 14 and timer.interrupting
    case.fire("correction_deadline")
    assert case.runtime.completed and case.status() == "expired"
    assert case.ready() == []


def test_sla_escalation_does_not_stop_the_case(case: Case) -> None:
    case.until_verification()
    timer = case.timers()["verify_sla"]
    assert not timer.interrupting and timer.attached_to == "verify_documents"
    assert case.fire("verify_sla") is True
    assert case.ready() == ["verify_documents"]
    assert case.data().get("verification_escalated") in (None, True)  # data of the last completed task
    case.complete("verify_documents")
    assert "verify_sla" not in case.timers()
    timer = case.timers()["approval_sla"]
    assert timer.attached_to == "supervisor_approval"
    case.fire("approval_sla")
    case.complete("supervisor_approval")
    assert case.ready() == ["book_biometrics"]


def test_completed_task_timer_is_stale(case: Case) -> None:
    case.until_verification()
    timer = case.timers()["verify_sla"]
    case.complete("verify_documents")
    runtime = case.runtime
    assert runtime.fire_timer(timer.task_id) is False


def test_completing_a_task_twice_is_refused(case: Case) -> None:
    runtime = case.runtime
    task = runtime.ready_user_tasks()[0]
    runtime.complete_user_task(task.task_id, form_data("applicant_data"))
    with pytest.raises(TaskNotReady, match="COMPLETED"):
        runtime.complete_user_task(task.task_id, form_data("applicant_data"))
    with pytest.raises(TaskNotReady, match="does not exist"):
        runtime.complete_user_task("00000000-0000-0000-0000-000000000000", {})


def test_timers_use_the_engine_clock_not_the_wall_clock(model: ProcessModel) -> None:
    from datetime import datetime

    clock = ManualClock(datetime(2020, 1, 1, tzinfo=UTC))  # far in the past: the wall clock is later
    case = Case(model, clock)
    case.until_payment()
    runtime = case.runtime
    runtime.run_engine()  # SpiffWorkflow's own timer refresh must not fire by the wall clock
    assert runtime.status() == "awaiting_payment"
    assert runtime.pending_timers()[0].due == datetime(2020, 1, 8, tzinfo=UTC)


def test_state_is_json_without_the_spec(case: Case) -> None:
    dct = json.loads(case.state)
    assert "spec" not in dct and "subprocess_specs" not in dct
    assert case.format.startswith("kitas-1+spiff-")


def test_no_status_after_the_sponsor_falls_back_to_draft(model: ProcessModel) -> None:
    """Regression: the document checklist named "draft", so a confirmed case said "Draft" again."""
    journey = catalog().by_code("worker").journey
    assert model.statuses["document_checklist"] == "awaiting_documents"
    assert journey.index("awaiting_documents") > journey.index("awaiting_sponsor")
    after = [s for e, s in model.statuses.items() if e not in ("applicant_data", "employment_data")]
    assert "draft" not in after


# -- every way the worker's case ends, on the shared steps (the walks serve the tests above too) --------


def _approved(case: Case, **verify: Any) -> None:
    case.until_verification()
    case.complete("verify_documents", **verify)
    case.complete("supervisor_approval")


def _sponsor_declines(case: Case) -> None:
    case.complete("applicant_data")
    case.complete("employment_data")
    case.complete("sponsor_confirmation", sponsor_decision="decline", sponsor_decline_reason="Not our employee")


def _sponsor_silent(case: Case) -> None:
    case.complete("applicant_data")
    case.complete("employment_data")
    case.fire("sponsor_deadline")


def _unpaid(case: Case) -> None:
    case.until_payment()
    case.fire("payment_deadline")


def _rejected_by_verifier(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", verification_decision="reject", verification_reason="Forged RPTKA")


def _uncorrected(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", verification_decision="corrections", verification_reason="Blurry scan")
    case.fire("correction_deadline")


def _rejected_by_supervisor(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents")
    case.complete("supervisor_approval", approval_decision="reject", approval_reason="Quota exceeded")


def _failed_interview(case: Case) -> None:
    _approved(case, interview_required=True)
    case.complete("conduct_interview", interview_outcome="fail", interview_notes="Could not explain the role.")


def _issued_after_interview(case: Case) -> None:
    _approved(case, interview_required=True)
    case.complete("conduct_interview")
    case.complete("book_biometrics")
    case.complete("capture_biometrics")


def _issued_after_corrections_and_escalations(case: Case) -> None:
    case.until_verification()
    case.fire("verify_sla")
    case.complete("verify_documents", verification_decision="corrections", verification_reason="Blurry scan")
    case.complete("submit_corrections")
    case.complete("verify_documents")
    case.fire("approval_sla")
    case.complete("supervisor_approval")
    case.complete("book_biometrics")
    case.complete("capture_biometrics")


def _missed_once_then_came(case: Case) -> None:
    """A missed biometrics appointment is booked again once; coming the second time goes on to the permit."""
    _approved(case)
    case.complete("book_biometrics")
    case.complete("capture_biometrics", appointment_outcome="missed", biometrics_captured=None)
    assert case.ready() == ["book_biometrics"] and case.status() == "biometrics_appointment"
    case.complete("book_biometrics")
    case.complete("capture_biometrics")
    assert case.data()["biometrics_outcome"] == "captured"


def _missed_twice(case: Case) -> None:
    """The second missed appointment closes the case: the type's own end after the shared step."""
    _approved(case)
    for _ in range(2):
        case.complete("book_biometrics")
        case.complete("capture_biometrics", appointment_outcome="missed", biometrics_captured=None)
    assert case.data()["biometrics_outcome"] == "missed" and case.data()["biometrics_missed"] == 1


JOURNEYS = {
    "sponsor declines": (_sponsor_declines, "end_sponsor_declined", "sponsor_declined"),
    "sponsor silent": (_sponsor_silent, "end_sponsor_expired", "expired"),
    "unpaid": (_unpaid, "end_expired_unpaid", "expired"),
    "verifier rejects": (_rejected_by_verifier, "end_rejected", "rejected"),
    "corrections not sent": (_uncorrected, "end_expired_uncorrected", "expired"),
    "supervisor rejects": (_rejected_by_supervisor, "end_rejected_by_supervisor", "rejected"),
    "interview failed": (_failed_interview, "end_rejected_after_interview", "rejected"),
    "interview passed": (_issued_after_interview, "end_permit_issued", "permit_issued"),
    "corrections, escalations": (_issued_after_corrections_and_escalations, "end_permit_issued", "permit_issued"),
    "biometrics missed once": (_missed_once_then_came, "end_permit_issued", "permit_issued"),
    "biometrics missed twice": (_missed_twice, "end_missed_appointment", "closed_missed_appointment"),
}


def _ended_at(runtime: CaseRuntime) -> list[str]:
    from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
    from SpiffWorkflow.util.task import TaskState

    return [
        task.task_spec.bpmn_id
        for task in runtime.workflow.get_tasks(state=TaskState.COMPLETED, skip_subprocesses=True)
        if isinstance(task.task_spec, EndEvent)
    ]


@pytest.mark.parametrize("journey", JOURNEYS, ids=list(JOURNEYS))
def test_every_journey_ends_where_the_diagram_says(case: Case, journey: str) -> None:
    """Each path, stored and restored after every step (``Case``), ends at its own end event and status,
    with nothing left waiting (no task, timer or message of a called process survives its end)."""
    walk, end, status = JOURNEYS[journey]
    walk(case)
    runtime = case.runtime
    assert runtime.completed and runtime.status() == status
    assert _ended_at(runtime) == [end]
    assert runtime.ready_user_tasks() == [] and runtime.pending_timers() == [] and runtime.waiting_messages() == []


def test_the_journeys_reach_every_end_of_the_worker_diagram(model: ProcessModel) -> None:
    from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent

    ends = {s.bpmn_id for s in model.spec.task_specs.values() if isinstance(s, EndEvent)}
    assert ends == {end for _, end, _ in JOURNEYS.values()}
    assert all(model.statuses.get(end) for end in ends)  # every end of the worker gives the case a status


def test_the_outcomes_of_the_shared_steps_reach_the_worker(case: Case) -> None:
    _issued_after_interview(case)
    data = case.runtime.data
    assert (data["payment_outcome"], data["review_outcome"], data["approval_outcome"]) == (
        "paid",
        "approved",
        "approved",
    )
    assert data["duration_months"] == 12 and data["permit_months"] == 12
    assert data["payment"] == PAYMENT  # the message the shared payment step caught


def test_the_supervisor_sends_the_case_back_and_a_verifier_takes_it_again(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", by="ver-1")
    assert case.not_by("supervisor_approval") == {"ver-1"}
    case.send_back("The passport scan does not match the stated number", by="sup-1")
    assert set(case.timers()) == {"verify_sla"}  # a new verification round, with its own SLA
    # ... which opens with an empty decision, not the approval the first round recorded.
    [review] = case.runtime.ready_user_tasks()
    assert {"verification_decision", "verification_reason"}.isdisjoint(case.runtime.task_data(review.task_id))
    case.complete("verify_documents", by="ver-2")
    assert case.ready() == ["supervisor_approval"] and case.status() == "awaiting_approval"
    runtime = case.runtime
    [approval] = runtime.ready_user_tasks()
    # The second round is decided afresh: the form does not open with the earlier "send back".
    fresh = runtime.task_data(approval.task_id)
    assert (fresh["approval_decision"], fresh["send_back_reason"]) == ("", "")
    assert approval.not_by == {"ver-1", "ver-2"}
    case.complete("supervisor_approval", by="sup-1")
    assert case.ready() == ["book_biometrics"] and case.data()["approval_outcome"] == "approved"
    case.complete("book_biometrics")
    case.complete("capture_biometrics")
    assert case.ended("permit_issued")
