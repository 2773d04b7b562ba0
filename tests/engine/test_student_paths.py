"""Every path of the student diagram (E30A, E30B, E30) on the shared steps, restoring from stored state
between steps: the sponsor confirms, declines or lets the deadline pass; payment, review, approval."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import ManualClock, ProcessModel
from tests.engine.bundles import parse_bundle
from tests.engine.driver import Case
from tests.types_data import student_data

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    return parse_bundle(BPMN / "kitas_student.bpmn")


def new_case(model: ProcessModel) -> Case:
    return Case(model, ManualClock(), {"kitas_type": "student", "index_code": "E30B"}, student_data)


@pytest.fixture()
def case(model: ProcessModel) -> Case:
    return new_case(model)


def until_sponsor(case: Case, **study: object) -> None:
    case.complete("student_applicant_data")
    case.complete("study_data", **study)
    assert case.ready() == ["student_sponsor_confirmation"] and case.status() == "awaiting_sponsor"


def until_payment(case: Case, **study: object) -> None:
    until_sponsor(case, **study)
    case.complete("student_sponsor_confirmation")
    assert case.status() == "awaiting_documents"
    case.complete("student_documents")
    assert case.status() == "awaiting_payment"


def until_review(case: Case) -> None:
    until_payment(case)
    case.pay()
    assert case.ready() == ["verify_documents"] and case.status() == "in_verification"


def test_happy_path_reaches_the_permit(case: Case) -> None:
    assert case.ready() == ["student_applicant_data"] and case.status() == "draft"
    case.complete("student_applicant_data")
    case.complete("study_data")
    assert case.status() == "awaiting_sponsor"
    assert set(case.timers()) == {"student_sponsor_deadline"}
    case.complete("student_sponsor_confirmation")
    assert case.ready() == ["student_documents"] and case.status() == "awaiting_documents"
    assert case.timers() == {}
    case.complete("student_documents")
    assert case.status() == "awaiting_payment" and set(case.timers()) == {"payment_deadline"}
    case.pay()
    assert case.data()["fee_amount"] == 12000000  # student, 48 months, from fees.dmn
    case.complete("verify_documents")
    case.complete("supervisor_approval")
    case.complete("book_biometrics")
    case.complete("capture_biometrics")
    assert case.ended("permit_issued")
    data = case.data()
    assert data["permit_issued"] is True and data["index_code"] == "E30B" and data["duration_months"] == 48
    # The permit's validity ends no later than the studies: the case keeps their end.
    assert data["study_end"] == "2030-06-30" and data["sponsor_kind"] == "institution"


@pytest.mark.parametrize(
    ("index_code", "months", "fee"), [("E30A", 12, 6000000), ("E30", 24, 8500000), ("E30B", 48, 12000000)]
)
def test_the_index_code_is_the_applicants_choice_and_the_fee_follows_the_stay(
    model: ProcessModel, index_code: str, months: int, fee: int
) -> None:
    case = new_case(model)
    until_payment(case, index_code=index_code, duration_months=months)
    case.pay()
    assert case.data()["index_code"] == index_code and case.data()["fee_amount"] == fee


def test_the_sponsor_declines(case: Case) -> None:
    until_sponsor(case)
    case.complete(
        "student_sponsor_confirmation", sponsor_decision="decline", sponsor_decline_reason="Not enrolled with us"
    )
    assert case.ended("sponsor_declined") and case.data()["sponsor_decline_reason"] == "Not enrolled with us"


def test_the_sponsor_does_not_answer_in_time(case: Case) -> None:
    until_sponsor(case)
    timer = case.timers()["student_sponsor_deadline"]
    assert (timer.due - case.clock.now()).days == 14 and timer.interrupting
    assert timer.attached_to == "student_sponsor_confirmation"
    assert case.fire("student_sponsor_deadline") is True
    assert case.ended("expired")


def test_payment_expiry(case: Case) -> None:
    until_payment(case)
    assert (case.timers()["payment_deadline"].due - case.clock.now()).days == 7
    case.fire("payment_deadline")
    assert case.ended("expired") and case.data()["payment_outcome"] == "expired"


def test_corrections_loop_then_approval(case: Case) -> None:
    until_review(case)
    for round_ in (1, 2):
        case.complete("verify_documents", verification_decision="corrections", verification_reason=f"Letter {round_}")
        assert case.ready() == ["submit_corrections"] and case.status() == "correction_requested"
        case.complete("submit_corrections")
        assert case.ready() == ["verify_documents"]
    case.complete("verify_documents")
    assert case.ready() == ["supervisor_approval"] and case.status() == "awaiting_approval"


def test_corrections_not_sent_in_time_expire(case: Case) -> None:
    until_review(case)
    case.complete("verify_documents", verification_decision="corrections", verification_reason="No insurance")
    case.fire("correction_deadline")
    assert case.ended("expired") and case.data()["review_outcome"] == "expired"


def test_the_verifier_rejects(case: Case) -> None:
    until_review(case)
    case.complete("verify_documents", verification_decision="reject", verification_reason="Letter not genuine")
    assert case.ended("rejected")


def test_the_supervisor_rejects(case: Case) -> None:
    until_review(case)
    case.complete("verify_documents")
    case.complete("supervisor_approval", approval_decision="reject", approval_reason="Institution not accredited")
    assert case.ended("rejected") and case.data()["approval_reason"] == "Institution not accredited"


def test_the_slas_escalate_without_stopping_the_case(case: Case) -> None:
    until_review(case)
    case.fire("verify_sla")
    assert case.ready() == ["verify_documents"]
    case.complete("verify_documents")
    case.fire("approval_sla")
    case.complete("supervisor_approval")
    assert case.ready() == ["book_biometrics"]


def test_the_sponsor_step_is_the_students_own(model: ProcessModel) -> None:
    step = model.user_tasks["student_sponsor_confirmation"]
    assert step.lane == "Sponsor" and step.status == "awaiting_sponsor"
    assert "sponsor_confirmation" not in model.user_tasks  # the worker's id is not reused


def test_the_supervisor_sends_the_case_back_to_the_review(case: Case) -> None:
    until_review(case)
    case.complete("verify_documents", by="ver-1")
    case.send_back("The acceptance letter names another programme", by="sup-1")
    case.complete("verify_documents", by="ver-1", verification_decision="corrections", verification_reason="Letter")
    case.complete("submit_corrections")
    case.complete("verify_documents", by="ver-2")
    assert case.ready() == ["supervisor_approval"] and case.not_by("supervisor_approval") == {"ver-1", "ver-2"}
    case.complete("supervisor_approval", by="sup-1")
    case.complete("book_biometrics")
    case.complete("capture_biometrics")
    assert case.ended("permit_issued")
