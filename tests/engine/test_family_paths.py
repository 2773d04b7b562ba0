"""Every path of the family diagram at engine level, the case saved and restored between every step.

The family KITAS (E31A spouse of a citizen, E31B spouse of a permit holder, E31C child) runs its own
steps (the relation, the family data, the family member's guarantee with its deadline, the checklist,
the family interview that every case has) and calls the shared steps for payment, document review,
approval, biometrics and issuance.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from engine import CaseRuntime, ManualClock, ProcessModel
from tests.engine import driver
from tests.engine.bundles import parse_bundle
from tests.family_data import PAYMENT, PERMIT_HOLDER, form_data
from workflows import catalog

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
FAMILY = BPMN / "kitas_family.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    return parse_bundle(FAMILY)


class Case(driver.Case):
    """A family case, stored and restored between every step by the one driver; ``index_code`` is the
    relation the applicant will answer (E31A, E31B, E31C)."""

    def __init__(self, model: ProcessModel, clock: ManualClock, index_code: str = "E31A"):
        # The catalog's default index code, as lifecycle.start_case puts it; the relation step decides.
        super().__init__(model, clock, {"kitas_type": "family", "index_code": "E31A"}, form_data, PAYMENT)
        self.index_code = index_code

    def until_sponsor(self, **member: Any) -> None:
        self.complete("family_relation", index_code=self.index_code)
        self.complete("family_applicant_data")
        self.complete("family_member_data", **({**PERMIT_HOLDER, **member} if self.index_code == "E31B" else member))
        assert self.ready() == ["family_sponsor_confirmation"] and self.status() == "awaiting_sponsor"

    def until_payment(self, **member: Any) -> None:
        self.until_sponsor(**member)
        self.complete("family_sponsor_confirmation")
        assert self.status() == "awaiting_documents"
        extra = {"sponsor_permit": "doc-6"} if self.index_code == "E31B" else {}
        self.complete("family_document_checklist", **extra)
        assert self.status() == "awaiting_payment"

    def until_verification(self) -> None:
        self.until_payment()
        self.pay()
        assert self.ready() == ["verify_documents"] and self.status() == "in_verification"

    def until_interview(self) -> None:
        self.until_verification()
        self.complete("verify_documents")
        assert self.ready() == ["schedule_family_interview"]
        self.complete("schedule_family_interview")
        assert self.ready() == ["conduct_family_interview"] and self.status() == "interview_scheduled"


@pytest.fixture()
def case(model: ProcessModel) -> Case:
    return Case(model, ManualClock())


def finish(case: Case) -> CaseRuntime:
    """From the passed interview on: approval, biometrics, issuance."""
    case.complete("conduct_family_interview")
    assert case.ready() == ["supervisor_approval"] and case.status() == "awaiting_approval"
    case.complete("supervisor_approval")
    assert case.ready() == ["book_biometrics"] and case.status() == "biometrics_appointment"
    case.complete("book_biometrics")
    assert case.ready() == ["capture_biometrics"]
    case.complete("capture_biometrics")
    return case.runtime


def test_spouse_of_a_citizen_reaches_the_permit(case: Case) -> None:
    assert case.ready() == ["family_relation"] and case.status() == "draft"
    case.until_interview()
    data = case.data()
    assert data["index_code"] == "E31A" and data["sponsor_kind"] == "person"
    assert data["duration_months"] == 12 and data["fee_amount"] == 1700000  # fees.dmn: family, any index, 12
    assert data["interview_date"] == "2026-02-02" and data["interview_office"] == "Kantor Imigrasi Jakarta Selatan"
    runtime = finish(case)
    assert runtime.completed and runtime.status() == "permit_issued"
    assert runtime.data["permit_issued"] is True and runtime.data["full_name"] == "Maria Santos"
    assert runtime.pending_timers() == [] and runtime.ready_user_tasks() == []


def test_spouse_of_a_permit_holder_reaches_the_permit_for_two_years(model: ProcessModel) -> None:
    case = Case(model, ManualClock(), index_code="E31B")
    case.until_sponsor(duration_months=24)
    case.complete("family_sponsor_confirmation")
    case.complete("family_document_checklist", sponsor_permit="doc-6")
    data = case.data()
    assert data["index_code"] == "E31B" and data["sponsor_permit_number"] == "2C21JD1234-AB"
    assert data["sponsor_permit"] == "doc-6"
    case.pay()
    case.complete("verify_documents")
    case.complete("schedule_family_interview")
    runtime = finish(case)
    assert runtime.completed and runtime.status() == "permit_issued"
    assert runtime.data["duration_months"] == 24 and runtime.data["fee_amount"] == 2200000  # fees.dmn


def test_the_relation_answer_sets_the_index_code(model: ProcessModel) -> None:
    case = Case(model, ManualClock(), index_code="E31C")
    assert case.data()["index_code"] == "E31A"  # the catalog's default, until the applicant says
    case.until_sponsor()
    assert case.data()["index_code"] == "E31C"


def test_the_family_member_declines(case: Case) -> None:
    case.until_sponsor()
    case.complete("family_sponsor_confirmation", sponsor_decision="decline", sponsor_decline_reason="Not my spouse")
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "sponsor_declined"
    assert runtime.data["sponsor_decline_reason"] == "Not my spouse"
    assert runtime.pending_timers() == []


def test_the_family_member_does_not_answer_in_14_days(case: Case) -> None:
    case.until_sponsor()
    timer = case.timers()["family_sponsor_deadline"]
    assert timer.interrupting and timer.attached_to == "family_sponsor_confirmation"
    assert (timer.due - case.clock.now()).days == 14
    assert case.fire("family_sponsor_deadline") is True
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "expired" and runtime.ready_user_tasks() == []


def test_the_deadline_is_gone_once_the_family_member_answered(case: Case) -> None:
    case.until_sponsor()
    timer = case.timers()["family_sponsor_deadline"]
    case.complete("family_sponsor_confirmation")
    assert "family_sponsor_deadline" not in case.timers()
    assert case.runtime.fire_timer(timer.task_id) is False
    assert case.ready() == ["family_document_checklist"]


def test_an_interview_is_always_scheduled(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", interview_required=False)  # the family diagram holds one all the same
    assert case.ready() == ["schedule_family_interview"] and case.status() == "in_verification"
    case.complete("schedule_family_interview")
    assert case.ready() == ["conduct_family_interview"] and case.status() == "interview_scheduled"


def test_a_failed_interview_rejects(case: Case) -> None:
    case.until_interview()
    case.complete("conduct_family_interview", interview_outcome="fail", interview_notes="The marriage is not genuine.")
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "rejected"
    assert runtime.data["interview_notes"] == "The marriage is not genuine."
    assert catalog().status_reason("rejected", runtime.data) == "The marriage is not genuine."


def test_the_verifier_rejects(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", verification_decision="reject", verification_reason="Forged marriage certificate")
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "rejected"
    assert runtime.data["verification_reason"] == "Forged marriage certificate"


def test_the_supervisor_rejects_after_the_interview(case: Case) -> None:
    case.until_interview()
    case.complete("conduct_family_interview")
    case.complete("supervisor_approval", approval_decision="reject", approval_reason="Sponsor has too many guarantees")
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "rejected" and runtime.ready_user_tasks() == []


def test_the_billing_code_expires(case: Case) -> None:
    case.until_payment()
    timer = case.timers()["payment_deadline"]
    assert (timer.due - case.clock.now()).days == 7
    assert case.fire("payment_deadline") is True
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "expired" and runtime.waiting_messages() == []


def test_corrections_not_sent_in_time_expire(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", verification_decision="corrections", verification_reason="Blurry KK scan")
    timer = case.timers()["correction_deadline"]
    assert timer.interrupting and (timer.due - case.clock.now()).days == 14
    case.fire("correction_deadline")
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "expired" and runtime.ready_user_tasks() == []


def test_the_corrections_loop_twice_then_the_interview(case: Case) -> None:
    case.until_verification()
    for round_ in (1, 2):
        reason = f"Certificate scan {round_} unreadable"
        case.complete("verify_documents", verification_decision="corrections", verification_reason=reason)
        assert case.ready() == ["submit_corrections"] and case.status() == "correction_requested"
        runtime = case.runtime
        assert runtime.task_data(runtime.ready_user_tasks()[0].task_id)["verification_reason"] == reason
        case.complete("submit_corrections")
        assert case.ready() == ["verify_documents"]
    case.complete("verify_documents")
    assert case.ready() == ["schedule_family_interview"]


# -- the diagram as a file --------------------------------------------------------------------------


def test_every_element_has_diagram_interchange_and_an_indonesian_name() -> None:
    root = ET.parse(FAMILY).getroot()
    process = root.find("bpmn:process", NS)
    assert process is not None
    drawn = {shape.get("bpmnElement") for shape in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    drawn |= {edge.get("bpmnElement") for edge in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    elements = [e for e in process if e.get("id") and not e.tag.endswith(("laneSet", "documentation"))]
    lanes = [lane.get("id") for lane in process.iter(f"{{{NS['bpmn']}}}lane")]
    assert {e.get("id") for e in elements} | set(lanes) <= drawn
    names = json.loads(FAMILY.with_name("kitas_family.id.json").read_text(encoding="utf-8"))
    named = {e.get("id") for e in elements if e.get("name") and not e.tag.endswith("sequenceFlow")}
    assert {f"/{element}" for element in named} == set(names)


def test_the_family_ids_are_its_own() -> None:
    """Ids must be unique across a bundle: none of the family diagram's is one of a shared step's."""
    own = {e.get("id") for e in ET.parse(FAMILY).getroot().iter() if e.get("id")}
    for shared in sorted((BPMN / "shared").glob("*.bpmn")):
        theirs = {e.get("id") for e in ET.parse(shared).getroot().iter() if e.get("id")}
        assert not own & theirs, f"{shared.name} uses ids of the family diagram: {sorted(own & theirs)}"


def test_the_catalog_entry_matches_the_diagram(model: ProcessModel) -> None:
    family = catalog().by_code("family")
    assert (family.process_id, family.diagram, family.sponsor_kinds) == (model.process_id, FAMILY.name, ("person",))
    assert set(family.check_answers) <= set(model.user_tasks)
    assert all(step in model.user_tasks for steps in family.check_answers.values() for step in steps)
    assert set(model.statuses.values()) <= set(catalog().statuses)
    checklist = json.loads((ROOT / "forms" / "schemas" / "family-document-checklist.schema.json").read_text())
    assert [d.key for d in family.documents] == [k for k in checklist["properties"] if k != "index_code"]


def test_the_supervisor_sends_the_case_back_to_the_review_and_the_interview_follows_again(case: Case) -> None:
    case.until_interview()
    case.complete("conduct_family_interview")
    assert case.ready() == ["supervisor_approval"]
    case.send_back("The marriage certificate's date differs from the form", by="sup-1")
    # The family diagram goes on from the review as it always does: the interview before the approval.
    case.complete("verify_documents", by="ver-2")
    assert case.ready() == ["schedule_family_interview"]
    case.complete("schedule_family_interview")
    runtime = finish(case)
    assert runtime.completed and runtime.status() == "permit_issued"


# -- missed interviews ------------------------------------------------------------------------------


def test_a_missed_interview_is_scheduled_again_once(case: Case) -> None:
    case.until_interview()
    case.complete("conduct_family_interview", appointment_outcome="missed", interview_outcome=None)
    assert case.ready() == ["schedule_family_interview"] and case.data()["interview_missed"] == 1
    case.complete("schedule_family_interview")
    assert case.ready() == ["conduct_family_interview"] and case.status() == "interview_scheduled"
    runtime = finish(case)
    assert runtime.completed and runtime.status() == "permit_issued"


def test_a_second_missed_interview_closes_the_case(case: Case) -> None:
    case.until_interview()
    case.complete("conduct_family_interview", appointment_outcome="missed", interview_outcome=None)
    case.complete("schedule_family_interview")
    case.complete("conduct_family_interview", appointment_outcome="missed", interview_outcome=None)
    assert case.ended("closed_missed_appointment")


def test_missed_biometrics_twice_closes_the_family_case(case: Case) -> None:
    case.until_interview()
    case.complete("conduct_family_interview")
    case.complete("supervisor_approval")
    for _ in range(2):
        assert case.ready() == ["book_biometrics"]
        case.complete("book_biometrics")
        case.complete("capture_biometrics", appointment_outcome="missed", biometrics_captured=None)
    assert case.ended("closed_missed_appointment")
