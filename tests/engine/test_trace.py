"""The trace of a worker case on its diagram (path, flows, where it is now, timers, each user task's data), read
from the state stored and restored between every step, at the points an officer or analyst opens it."""

from __future__ import annotations

import pytest

from engine import CaseTrace, ManualClock, ProcessModel, case_trace
from tests.engine.test_worker_paths import Case
from tests.worker_data import worker_model

OWN_STEPS = ["applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"]


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    return worker_model()


@pytest.fixture()
def case(model: ProcessModel) -> Case:
    return Case(model, ManualClock())


def _trace(case: Case) -> CaseTrace:
    return case_trace(case.runtime)  # restored from the stored state, as every page reads it


def _path(trace: CaseTrace, *kinds: str) -> list[str]:
    return [s.element_id for s in trace.steps if not kinds or s.kind in kinds]


def test_a_new_case_stands_at_its_first_form(case: Case) -> None:
    trace = _trace(case)
    assert _path(trace) == ["start", "init_case"]
    assert [(s.element_id, s.kind) for s in trace.current] == [("applicant_data", "user")]
    assert ("start", "init_case") in trace.flows and ("init_case", "applicant_data") in trace.flows
    assert trace.timers == () and not trace.completed


def test_before_payment_the_case_waits_inside_the_payment_step(case: Case) -> None:
    case.until_payment()
    trace = _trace(case)
    assert _path(trace, "user") == OWN_STEPS
    # The payment step runs: its call activity and its message wait are where the case is.
    assert {(s.element_id, s.kind, s.called_by) for s in trace.current} == {
        ("call_payment", "call", None),
        ("await_payment", "wait", "call_payment"),
    }
    assert [t.element_id for t in trace.timers] == ["payment_deadline"]
    assert trace.timers[0].attached_to == "await_payment" and trace.timers[0].interrupting
    assert ("document_checklist", "call_payment") in trace.flows
    assert ("compute_fee", "await_payment") in trace.flows  # inside the called diagram
    assert "call_payment" not in trace.taken  # running, not done
    # Each user task keeps the data it completed with: the applicant's name where she gave it.
    [applicant] = [s for s in trace.steps if s.element_id == "applicant_data"]
    assert applicant.data is not None and applicant.data["full_name"]
    assert all(s.data is None for s in trace.steps if s.kind != "user")


def test_at_verification_the_path_runs_through_the_finished_payment_step(case: Case) -> None:
    case.until_verification()
    trace = _trace(case)
    path = _path(trace)
    assert path.index("document_checklist") < path.index("await_payment") < path.index("call_payment")
    assert path.index("call_payment") < path.index("gw_payment") < path.index("review_open")
    payment = [s for s in trace.steps if s.process_id == "shared_payment"]
    assert payment and {s.called_by for s in payment} == {"call_payment"}
    assert [(s.element_id, s.called_by, s.process_id) for s in trace.current if s.kind == "user"] == [
        ("verify_documents", "call_document_review", "shared_document_review")
    ]
    assert "call_document_review" in trace.current_ids
    assert trace.timer_ids == {"verify_sla"}
    assert ("call_payment", "gw_payment") in trace.flows and ("gw_payment", "call_document_review") in trace.flows
    # The times are in the order of the path.
    whens = [s.when for s in trace.steps]
    assert all(w is not None for w in whens) and whens == sorted(whens)  # type: ignore[type-var]


def test_a_correction_round_shows_each_visit_with_its_own_data(case: Case) -> None:
    case.until_verification()
    case.complete("verify_documents", verification_decision="corrections", verification_reason="Blurry scan")
    case.complete("submit_corrections", full_name="Corrected Name")
    trace = _trace(case)
    # Back at verification: the first visit is on the path, the second is where the case is now.
    assert _path(trace, "user")[-2:] == ["verify_documents", "submit_corrections"]
    assert [s.element_id for s in trace.current if s.kind == "user"] == ["verify_documents"]
    assert ("close_correction_round", "gw_verify_merge") in trace.flows
    case.complete("verify_documents")
    trace = _trace(case)
    visits = [s for s in trace.steps if s.element_id == "verify_documents"]
    assert len(visits) == 2 and visits[0].task_id != visits[1].task_id
    assert visits[0].data is not None and visits[0].data["verification_decision"] == "corrections"
    assert visits[1].data is not None and visits[1].data["full_name"] == "Corrected Name"
    assert visits[1].data["verification_decision"] == "approve"
    assert [s.element_id for s in trace.current if s.kind == "user"] == ["supervisor_approval"]
    assert trace.timer_ids == {"approval_sla"}


def test_an_escalation_is_on_the_path_and_the_task_stays_current(case: Case) -> None:
    case.until_verification()
    assert case.fire("verify_sla")
    trace = _trace(case)
    assert "verify_sla" in trace.taken and "escalate_verification" in trace.taken
    assert [s for s in trace.steps if s.element_id == "verify_sla"][0].kind == "timer"
    assert "verify_documents" in trace.current_ids and "verify_sla" not in trace.timer_ids
    assert ("verify_sla", "escalate_verification") in trace.flows


def test_a_deadline_that_stops_a_step_marks_it_interrupted(case: Case) -> None:
    case.until_payment()
    assert case.fire("payment_deadline")
    trace = _trace(case)
    [waited] = [s for s in trace.steps if s.element_id == "await_payment"]
    assert waited.interrupted and waited.kind == "wait"
    assert "payment_deadline" in trace.taken and trace.completed
    assert trace.current == () and trace.timers == ()
    assert not any(s.interrupted for s in trace.steps if s.element_id != "await_payment")


def test_a_finished_case_has_its_whole_path_and_nothing_current(case: Case) -> None:
    case.until_verification()
    for element in ("verify_documents", "supervisor_approval", "book_biometrics", "capture_biometrics"):
        case.complete(element)
    trace = _trace(case)
    assert trace.completed and trace.current == () and trace.timers == () and trace.failed == ()
    assert _path(trace, "user") == [
        *OWN_STEPS,
        "verify_documents",
        "supervisor_approval",
        "book_biometrics",
        "capture_biometrics",
    ]
    assert {"call_payment", "call_document_review", "call_approval", "call_biometrics", "call_issuance"} <= trace.taken
    top_ends = [s.element_id for s in trace.steps if s.kind == "end" and s.called_by is None]
    assert top_ends == [_path(trace)[-1]]  # the case's own end, last


def test_reading_the_trace_changes_nothing_and_survives_a_restore(case: Case) -> None:
    case.until_verification()
    runtime = case.runtime
    before = runtime.dump()
    first = case_trace(runtime)
    assert runtime.dump() == before
    again = _trace(case)  # another restore of the same stored state
    assert first.steps == again.steps and first.current == again.current and first.flows == again.flows
    assert [s.data for s in first.user_steps()] == [s.data for s in again.user_steps()]
