"""Call activities: the worker diagram on the shared steps, parsed as one bundle and run inside the
called processes (tasks, timers, messages, status, data, corrections, moves, failures), with the state
stored and restored in the middle of a call activity."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from engine import (
    CaseRuntime,
    DiagramError,
    ManualClock,
    NotWaiting,
    ProcessModel,
    ScriptError,
    StateError,
    parse_process,
)
from tests.engine.bundles import SHARED_CALLS
from tests.engine.test_worker_paths import Case, model  # noqa: F401  (the module's fixture)
from tests.worker_data import BPMN, PAYMENT, WORKER_STEPS, shared_diagrams, worker_model
from workflows import catalog

WORKER = (BPMN / "kitas_worker.bpmn").read_text(encoding="utf-8")
FEES = {"fees.dmn": (BPMN / "fees.dmn").read_text(encoding="utf-8")}


@pytest.fixture()
def case(model: ProcessModel) -> Case:  # noqa: F811
    return Case(model, ManualClock())


# -- parsing the bundle ---------------------------------------------------------------------------------


def test_the_model_indexes_the_called_processes() -> None:
    bundle = worker_model()
    assert bundle.calls == SHARED_CALLS
    assert set(bundle.subprocess_specs) == set(bundle.calls.values())
    info = bundle.user_tasks["verify_documents"]
    assert (info.lane, info.form_schema, info.status) == (
        "Verifier",
        "shared-verify-documents.schema.json",
        "in_verification",
    )
    assert (
        bundle.statuses["await_payment"] == "awaiting_payment"
        and bundle.statuses["payment_deadline"] == "awaiting_payment"
    )
    assert bundle.element_names["payment_deadline"] == "Billing code expired (7 days)"
    assert bundle.decisions == ("kitas_fee",)
    # Diagram order: a called process's tasks where it is called (the pages list the steps in order).
    assert list(bundle.user_tasks) == [step for step in WORKER_STEPS if step != "await_payment"]  # a wait, no task


def test_a_call_to_a_process_no_diagram_defines_is_refused_naming_the_call_activity() -> None:
    called = {name: text for name, text in shared_diagrams().items() if name != "shared_approval.bpmn"}
    with pytest.raises(DiagramError) as refused:
        parse_process(WORKER, FEES, called=called)
    assert refused.value.problems == [
        ("call_approval", "the call activity calls shared_approval, which no diagram of the bundle defines")
    ]
    with pytest.raises(DiagramError, match="call_payment: the call activity calls shared_payment"):
        parse_process(WORKER, FEES)  # nothing supplied at all


def test_an_element_id_used_twice_across_the_bundle_is_refused() -> None:
    clashing = WORKER.replace('id="init_case"', 'id="compute_fee"').replace(
        '"flow_start_to_init_case"', '"flow_start_to_compute_fee"'
    )
    with pytest.raises(DiagramError) as refused:
        parse_process(clashing, FEES, called=shared_diagrams())
    assert refused.value.problems == [
        (
            "compute_fee",
            "the id is used in kitas_worker.bpmn and in shared_payment.bpmn; "
            "ids must be unique in a diagram and its steps",
        )
    ]


def test_a_process_defined_twice_in_the_bundle_is_refused() -> None:
    other = shared_diagrams()["shared_payment.bpmn"].replace('name="Compute fee"', 'name="Compute the fee"')
    called = {**shared_diagrams(), "copy.bpmn": other}
    with pytest.raises(DiagramError) as refused:
        parse_process(WORKER, FEES, called=called)
    assert refused.value.problems == [
        ("shared_payment", "two diagrams of the bundle define the process shared_payment")
    ]
    parse_process(WORKER, FEES, called={**shared_diagrams(), "again.bpmn": shared_diagrams()["shared_payment.bpmn"]})
    with pytest.raises(DiagramError, match="copy.bpmn: the XML does not parse"):
        parse_process(WORKER, FEES, called={"copy.bpmn": "<bpmn:definitions"})


def test_an_unknown_lane_of_a_called_diagram_is_refused_naming_it() -> None:
    called = shared_diagrams()
    called["shared_approval.bpmn"] = called["shared_approval.bpmn"].replace(
        'name="Supervisor"', 'name="Head of office"'
    )
    with pytest.raises(DiagramError) as refused:
        parse_process(WORKER, FEES, called=called, known_lanes=catalog().lane_roles)
    [(element, problem)] = refused.value.problems
    assert element == "shared_approval_lane_supervisor" and "'Head of office' maps to no known role" in problem


def test_a_broken_script_of_a_called_diagram_is_refused_naming_its_element() -> None:
    called = shared_diagrams()
    called["shared_issuance.bpmn"] = called["shared_issuance.bpmn"].replace("permit_issued = True", "permit_issued = (")
    with pytest.raises(DiagramError) as refused:
        parse_process(WORKER, FEES, called=called)
    assert [element for element, _ in refused.value.problems] == ["issue_permit"]


# -- running inside the called processes ----------------------------------------------------------------


def test_a_case_waiting_for_payment_inside_the_shared_step(case: Case) -> None:
    case.until_payment()
    runtime = case.runtime
    assert runtime.status() == "awaiting_payment" and runtime.waiting_messages() == ["payment_received"]
    [timer] = runtime.pending_timers()
    assert (timer.element_id, timer.attached_to, timer.interrupting) == ("payment_deadline", "await_payment", True)
    assert timer.due - case.clock.now() == timedelta(days=7)
    # The case data is the whole case's, the fee computed inside the call activity included.
    assert runtime.data["fee_amount"] == 1700000 and runtime.data["full_name"] == "Ana Lima"
    assert runtime.data["duration_months"] == 12  # the call activity's preScript, before the data went in


def test_the_payment_message_is_caught_inside_the_shared_step(case: Case) -> None:
    case.until_payment()
    case.pay()
    runtime = case.runtime
    assert [t.element_id for t in runtime.ready_user_tasks()] == ["verify_documents"]
    assert runtime.data["payment"] == PAYMENT and runtime.data["payment_outcome"] == "paid"
    with pytest.raises(NotWaiting):
        runtime.deliver_message("payment_received", PAYMENT)  # the shared step is over


def test_a_timer_inside_the_shared_step_fires_and_the_worker_ends_expired(case: Case) -> None:
    case.until_payment()
    assert case.fire("payment_deadline") is True
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "expired"
    assert runtime.data["payment_outcome"] == "expired"
    assert runtime.waiting_messages() == [] and runtime.pending_timers() == []


def test_a_non_interrupting_timer_inside_a_shared_step_leaves_the_task_open(case: Case) -> None:
    case.until_verification()
    [timer] = case.runtime.pending_timers()
    assert (timer.element_id, timer.attached_to, timer.interrupting) == ("verify_sla", "verify_documents", False)
    assert case.fire("verify_sla") is True
    runtime = case.runtime
    assert [t.element_id for t in runtime.ready_user_tasks()] == ["verify_documents"]
    assert runtime.status() == "in_verification" and runtime.pending_timers() == []
    assert runtime.fire_timer(timer.task_id) is False  # fired once


def test_the_stored_state_survives_the_middle_of_a_call_activity(case: Case) -> None:
    """A case stored while it waits inside shared_document_review restores with the same tasks,
    timers, status and data, and goes on to the end on the restored runtime."""
    case.until_verification()
    case.complete("verify_documents", verification_decision="corrections", verification_reason="Blurry scan")
    live = case.runtime
    state = json.loads(case.state)
    assert "spec" not in state and {sub["spec"] for sub in state["subprocesses"].values()} == {
        "shared_payment",
        "shared_document_review",
    }
    restored = case.runtime
    assert restored.ready_user_tasks() == live.ready_user_tasks()
    assert restored.pending_timers() == live.pending_timers()
    assert (restored.status(), restored.data) == (live.status(), live.data) == ("correction_requested", live.data)
    assert restored.task_data(restored.ready_user_tasks()[0].task_id)["verification_reason"] == "Blurry scan"
    again, again_format = restored.dump()
    assert again_format == case.format and json.loads(again) == state  # nothing lost or added by a round trip
    case.complete("submit_corrections")
    case.complete("verify_documents")
    case.complete("supervisor_approval")
    case.complete("book_biometrics")
    case.complete("capture_biometrics")
    assert case.runtime.status() == "permit_issued"


def test_correcting_data_while_a_task_of_a_called_process_waits(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", verification_decision="corrections", verification_reason="Blurry scan")
    runtime = case.runtime
    [task] = runtime.ready_user_tasks()
    runtime.correct_waiting_data(task.task_id, {"sponsor_email": "people@employer.co.id"})
    assert runtime.data["sponsor_email"] == "people@employer.co.id"
    assert runtime.task_data(task.task_id)["sponsor_email"] == "people@employer.co.id"
    case.store(runtime)
    case.complete("submit_corrections")
    case.complete("verify_documents")
    assert case.data()["sponsor_email"] == "people@employer.co.id"  # carried out of the call activity


def test_moving_to_another_version_in_the_middle_of_a_call_activity(case: Case) -> None:
    case.until_verification()
    called = shared_diagrams()
    renamed = called["shared_document_review.bpmn"].replace('name="Verify documents"', 'name="Check the documents"')
    newer = parse_process(WORKER, FEES, called={**called, "shared_document_review.bpmn": renamed})
    moved = case.runtime.move_to(newer, "TEST-1")
    [task] = moved.ready_user_tasks()
    assert (task.element_id, task.name) == ("verify_documents", "Check the documents")
    moved.complete_user_task(task.task_id, {"verification_decision": "approve", "interview_required": False})
    assert [t.element_id for t in moved.ready_user_tasks()] == ["supervisor_approval"]
    # A version whose shared step lacks an element the case has tasks of is refused, naming it.
    # (without the four-eyes rule, which names a task of the review step: deployment would refuse it)
    lacking = parse_process(
        WORKER.replace('calledElement="shared_document_review"', 'calledElement="shared_approval"').replace(
            '<spiffworkflow:property name="notByPerformerOf" value="verify_documents" />', ""
        ),
        FEES,
        called=called,
    )
    with pytest.raises(StateError, match="subprocess shared_document_review"):
        case.runtime.move_to(lacking, "TEST-1")


FAILING_FEE = FEES["fees.dmn"].replace("<text>1700000</text>", "<text>(n for n in range(3))</text>", 1)


def test_a_failed_step_inside_a_called_process_waits_and_is_retried_on_a_fixed_version(case: Case) -> None:
    hostile = parse_process(WORKER, {"fees.dmn": FAILING_FEE}, called=shared_diagrams())
    case.model = hostile
    case.state, case.format = CaseRuntime.start(
        hostile, {"kitas_type": "worker", "index_code": "E23"}, case.clock
    ).dump()
    for element in ("applicant_data", "employment_data", "sponsor_confirmation"):
        case.complete(element)
    runtime = case.runtime
    task = runtime.ready_user_tasks()[0]
    with pytest.raises(ScriptError) as failed:
        runtime.complete_user_task(task.task_id, {**_documents()})
    assert failed.value.element_id == "compute_fee"
    assert [s.element_id for s in runtime.stopped] == ["compute_fee"]
    case.store(runtime)  # a runtime with a stopped step is stored as it is
    restored = case.runtime
    assert [s.element_id for s in restored.failed_steps()] == ["compute_fee"]
    assert restored.ready_user_tasks() == [] and restored.status() is None
    fixed = restored.move_to(worker_model(), "TEST-1")
    assert fixed.retry_failed_steps() == ["compute_fee"]
    assert fixed.status() == "awaiting_payment" and fixed.data["fee_amount"] == 1700000
    assert fixed.failed_steps() == [] and [t.element_id for t in fixed.pending_timers()] == ["payment_deadline"]


def _documents() -> dict[str, str]:
    from tests.worker_data import DOCUMENTS

    return dict(DOCUMENTS)


def test_every_diagram_has_diagram_interchange_for_every_flow_node_and_flow() -> None:
    """bpmn.io draws only what has a shape or an edge: every flow node, lane and sequence flow of every
    diagram under bpmn/ has one, with bounds or waypoints."""
    from lxml import etree

    ns = {
        "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    }
    flow_nodes = (
        "startEvent endEvent boundaryEvent intermediateCatchEvent intermediateThrowEvent task userTask "
        "scriptTask serviceTask businessRuleTask receiveTask sendTask manualTask callActivity subProcess "
        "exclusiveGateway parallelGateway inclusiveGateway eventBasedGateway lane"
    ).split()
    diagrams = sorted([*BPMN.glob("*.bpmn"), *BPMN.glob("shared/*.bpmn")])
    assert len(diagrams) >= 6
    for path in diagrams:
        root = etree.parse(str(path)).getroot()
        elements = {e.get("id") for name in flow_nodes for e in root.iterfind(f".//bpmn:process//bpmn:{name}", ns)}
        flows = {e.get("id") for e in root.iterfind(".//bpmn:sequenceFlow", ns)}
        shapes = {
            s.get("bpmnElement")
            for s in root.iterfind(".//bpmndi:BPMNShape", ns)
            if s.find("{http://www.omg.org/spec/DD/20100524/DC}Bounds") is not None
        }
        edges = {
            e.get("bpmnElement")
            for e in root.iterfind(".//bpmndi:BPMNEdge", ns)
            if len(e.findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2
        }
        assert elements and flows, path.name
        assert sorted(elements - shapes) == [], f"{path.name}: flow nodes without a shape"
        assert sorted(flows - edges) == [], f"{path.name}: flows without an edge"
        assert Path(path.with_name(f"{path.stem}.id.json")).is_file(), f"{path.name} has no Indonesian names"
