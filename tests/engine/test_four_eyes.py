"""Four eyes, as the diagram states it: ``notByPerformerOf`` on a call activity (or a user task) names the user
tasks whose performers may not take it. The engine records who completed each user task case-wide, across
the call activities, in the stored state, and refuses a barred performer."""

from __future__ import annotations

import pytest

from engine import DiagramError, ManualClock, PerformerBarred, ProcessModel, parse_process
from tests.engine.driver import Case
from tests.worker_data import BPMN, form_data, shared_diagrams, worker_model

FEES = {"fees.dmn": (BPMN / "fees.dmn").read_text(encoding="utf-8")}
WORKER = (BPMN / "kitas_worker.bpmn").read_text(encoding="utf-8")
RULE = '<spiffworkflow:property name="notByPerformerOf" value="verify_documents" />'


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    return worker_model()


def until_approval(case: Case, verifier: str = "ver-1") -> None:
    for element in ("applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"):
        case.complete(element, by="applicant-1")
    case.pay()
    case.complete("verify_documents", by=verifier)
    assert case.ready() == ["supervisor_approval"]


def test_the_diagram_states_the_rule(model: ProcessModel) -> None:
    assert WORKER.count(RULE) == 1
    assert model.not_by_performer_of == {"call_approval": ("verify_documents",)}


def test_the_verifier_may_not_approve_and_another_supervisor_may(model: ProcessModel) -> None:
    case = Case(model, ManualClock(), {"kitas_type": "worker", "index_code": "E23"}, form_data)
    until_approval(case)
    # Read from the stored state: the record spans the review step and the approval step (two call activities).
    assert case.not_by("supervisor_approval") == {"ver-1"}
    runtime = case.runtime
    [task] = runtime.ready_user_tasks()
    assert runtime.not_by(task.task_id) == {"ver-1"}
    with pytest.raises(PerformerBarred, match="four eyes") as refused:
        runtime.complete_user_task(task.task_id, form_data("supervisor_approval"), performer="ver-1")
    assert (refused.value.element_id, refused.value.performer) == ("supervisor_approval", "ver-1")
    assert runtime.ready_user_tasks() == [task]  # nothing happened
    case.complete("supervisor_approval", by="sup-1")
    assert case.ready() == ["book_biometrics"]
    assert case.runtime.performers()["verify_documents"] == ("ver-1",)
    assert case.runtime.performers()["supervisor_approval"] == ("sup-1",)
    # A task no rule names is anyone's of its lane: the applicant's and the verifier's later steps.
    assert case.not_by("book_biometrics") == frozenset()
    case.complete("book_biometrics", by="applicant-1")
    assert case.not_by("capture_biometrics") == frozenset()


def test_every_verifier_of_the_case_is_kept_from_the_approval(model: ProcessModel) -> None:
    case = Case(model, ManualClock(), {"kitas_type": "worker", "index_code": "E23"}, form_data)
    for element in ("applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"):
        case.complete(element)
    case.pay()
    case.complete(
        "verify_documents", by="ver-1", verification_decision="corrections", verification_reason="Scan blurry"
    )
    case.complete("submit_corrections", by="applicant-1")
    case.complete("verify_documents", by="ver-2")
    assert case.not_by("supervisor_approval") == {"ver-1", "ver-2"}


def test_no_performer_named_records_nothing(model: ProcessModel) -> None:
    case = Case(model, ManualClock(), {"kitas_type": "worker", "index_code": "E23"}, form_data)
    for element in ("applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"):
        case.complete(element)
    case.pay()
    case.complete("verify_documents")
    assert case.not_by("supervisor_approval") == frozenset() and case.runtime.performers() == {}


def test_a_rule_on_the_user_task_itself_works_too() -> None:
    called = shared_diagrams()
    approval = called["shared_approval.bpmn"].replace(
        '<spiffworkflow:property name="status" value="awaiting_approval" />',
        '<spiffworkflow:property name="status" value="awaiting_approval" />\n' + RULE,
        1,
    )
    model = parse_process(WORKER.replace(RULE, ""), FEES, called={**called, "shared_approval.bpmn": approval})
    assert model.not_by_performer_of == {"supervisor_approval": ("verify_documents",)}
    case = Case(model, ManualClock(), {"kitas_type": "worker", "index_code": "E23"}, form_data)
    until_approval(case, verifier="ver-9")
    assert case.not_by("supervisor_approval") == {"ver-9"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("verify_document", "notByPerformerOf names verify_document, which is no user task"),
        ("gw_review", "notByPerformerOf names gw_review, which is no user task"),
        (" , ", "notByPerformerOf names no user task"),
    ],
)
def test_deployment_refuses_a_rule_naming_no_user_task_of_the_bundle(value: str, problem: str) -> None:
    text = WORKER.replace(RULE, f'<spiffworkflow:property name="notByPerformerOf" value="{value}" />')
    with pytest.raises(DiagramError) as refused:
        parse_process(text, FEES, called=shared_diagrams())
    assert ("call_approval", problem) in [(e, why[: len(problem)]) for e, why in refused.value.problems]


def test_deployment_refuses_a_rule_on_an_element_that_is_not_a_task() -> None:
    text = WORKER.replace(
        '<bpmn:exclusiveGateway id="gw_approved" name="Approved?">',
        '<bpmn:exclusiveGateway id="gw_approved" name="Approved?">\n<bpmn:extensionElements><spiffworkflow:properties>'
        + RULE
        + "</spiffworkflow:properties></bpmn:extensionElements>",
    )
    with pytest.raises(DiagramError) as refused:
        parse_process(text, FEES, called=shared_diagrams())
    assert ("gw_approved", "notByPerformerOf belongs on a user task or a call activity") in refused.value.problems


def test_the_shared_approval_alone_states_no_rule() -> None:
    """Deployed on its own (kitas init deploys the shared steps first), the approval names no other step's task:
    the rule lives where both steps meet, on the type's call activity."""
    alone = parse_process(shared_diagrams()["shared_approval.bpmn"])
    assert alone.not_by_performer_of == {}
