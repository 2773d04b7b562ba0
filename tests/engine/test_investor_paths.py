"""Every path of the investor diagram (E28A) on the shared steps, restoring from stored state between steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import ManualClock, ProcessModel
from tests.engine.bundles import parse_bundle
from tests.engine.driver import Case
from tests.types_data import investor_data

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
OWN_STEPS = ("investor_applicant_data", "investment_data", "investor_documents")


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    return parse_bundle(BPMN / "kitas_investor.bpmn")


def new_case(model: ProcessModel) -> Case:
    return Case(model, ManualClock(), {"kitas_type": "investor", "index_code": "E28A"}, investor_data)


@pytest.fixture()
def case(model: ProcessModel) -> Case:
    return new_case(model)


def until_payment(case: Case, **investment: object) -> None:
    case.complete("investor_applicant_data")
    case.complete("investment_data", **investment)
    case.complete("investor_documents")
    assert case.status() == "awaiting_payment"


def until_review(case: Case) -> None:
    until_payment(case)
    case.pay()
    case.complete("check_shareholding")
    assert case.ready() == ["verify_documents"] and case.status() == "in_verification"


def test_happy_path_reaches_the_permit(case: Case) -> None:
    assert case.ready() == ["investor_applicant_data"] and case.status() == "draft"
    case.complete("investor_applicant_data")
    assert case.ready() == ["investment_data"] and case.status() == "draft"
    case.complete("investment_data")
    case.complete("investor_documents")
    assert case.status() == "awaiting_payment"
    assert set(case.timers()) == {"payment_deadline"}
    case.pay()
    assert case.data()["fee_amount"] == 1700000  # investor, 12 months, from fees.dmn (back from the call)
    # The investor's own step comes first: the verifier checks the shareholding before the shared review.
    assert case.ready() == ["check_shareholding"] and case.status() == "in_verification"
    case.complete("check_shareholding")
    assert case.ready() == ["verify_documents"]
    case.complete("verify_documents")
    assert case.ready() == ["supervisor_approval"] and case.status() == "awaiting_approval"
    case.complete("supervisor_approval")
    assert case.ready() == ["book_biometrics"] and case.status() == "biometrics_appointment"
    case.complete("book_biometrics")
    case.complete("capture_biometrics")
    assert case.ended("permit_issued")
    data = case.data()
    assert data["permit_issued"] is True and data["duration_months"] == 12 and data["index_code"] == "E28A"
    assert data["share_value_idr"] == 12_000_000_000 and data["office"] == "Kantor Imigrasi Jakarta Selatan"
    assert "sponsor_kind" not in data and "sponsor_email" not in data  # no sponsor for an investor
    assert case.restores > 20


@pytest.mark.parametrize(("months", "fee"), [(12, 1700000), (24, 2200000)])
def test_the_fee_follows_the_length_of_stay(model: ProcessModel, months: int, fee: int) -> None:
    case = new_case(model)
    until_payment(case, duration_months=months)
    case.pay()
    assert case.data()["fee_amount"] == fee


def test_a_shareholding_that_does_not_match_is_rejected_before_the_review(case: Case) -> None:
    until_payment(case)
    case.pay()
    case.complete("check_shareholding", shareholding_decision="mismatch", shareholding_reason="The register shows 2%.")
    assert case.ended("rejected")
    assert case.data()["shareholding_reason"] == "The register shows 2%."
    assert "review_outcome" not in case.data()  # the shared review never started


def test_payment_expiry(case: Case) -> None:
    until_payment(case)
    timer = case.timers()["payment_deadline"]
    assert (timer.due - case.clock.now()).days == 7
    assert case.fire("payment_deadline") is True
    assert case.ended("expired") and case.data()["payment_outcome"] == "expired"


def test_corrections_loop_then_approval(case: Case) -> None:
    until_review(case)
    for round_ in (1, 2):
        case.complete("verify_documents", verification_decision="corrections", verification_reason=f"Deed {round_}")
        assert case.ready() == ["submit_corrections"] and case.status() == "correction_requested"
        assert set(case.timers()) == {"correction_deadline"}
        case.complete("submit_corrections")
        assert case.ready() == ["verify_documents"]
    case.complete("verify_documents")
    assert case.ready() == ["supervisor_approval"]


def test_corrections_not_sent_in_time_expire(case: Case) -> None:
    until_review(case)
    case.complete("verify_documents", verification_decision="corrections", verification_reason="Blurry deed")
    assert (case.timers()["correction_deadline"].due - case.clock.now()).days == 14
    case.fire("correction_deadline")
    assert case.ended("expired") and case.data()["review_outcome"] == "expired"


def test_the_verifier_rejects_in_the_review(case: Case) -> None:
    until_review(case)
    case.complete("verify_documents", verification_decision="reject", verification_reason="Forged deed")
    assert case.ended("rejected") and case.data()["verification_reason"] == "Forged deed"


def test_the_supervisor_rejects(case: Case) -> None:
    until_review(case)
    case.complete("verify_documents")
    case.complete("supervisor_approval", approval_decision="reject", approval_reason="Company under investigation")
    assert case.ended("rejected") and case.data()["approval_outcome"] == "rejected"


def test_the_slas_escalate_without_stopping_the_case(case: Case) -> None:
    until_review(case)
    assert not case.timers()["verify_sla"].interrupting
    case.fire("verify_sla")
    assert case.ready() == ["verify_documents"]
    case.complete("verify_documents")
    case.fire("approval_sla")
    assert case.ready() == ["supervisor_approval"]
    case.complete("supervisor_approval")
    assert case.ready() == ["book_biometrics"]


def test_the_diagram_names_the_investors_own_steps_and_statuses(model: ProcessModel) -> None:
    own = {e for e, info in model.user_tasks.items() if e in (*OWN_STEPS, "check_shareholding")}
    assert own == {*OWN_STEPS, "check_shareholding"}
    assert model.user_tasks["check_shareholding"].lane == "Verifier"
    assert model.statuses["end_rejected_shareholding"] == "rejected"
    assert "sponsor_confirmation" not in model.user_tasks  # no sponsor step for an investor


def test_the_supervisor_sends_the_case_back_to_the_review(case: Case) -> None:
    until_payment(case)
    case.pay()
    case.complete("check_shareholding", by="ver-1")
    case.complete("verify_documents", by="ver-2")
    # The investor's diagram keeps both verifiers from the approval: the shareholding's and the review's.
    assert case.not_by("supervisor_approval") == {"ver-1", "ver-2"}
    case.send_back("Proof of shareholding is older than the deed", by="sup-1")
    # Back to the shared review, not to the investor's own shareholding check.
    case.complete("verify_documents", by="ver-3")
    assert case.ready() == ["supervisor_approval"]
    assert case.not_by("supervisor_approval") == {"ver-1", "ver-2", "ver-3"}
    case.complete("supervisor_approval", by="sup-1", approval_decision="reject", approval_reason="Company closed")
    assert case.ended("rejected")
