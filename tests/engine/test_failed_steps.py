"""A failing engine task waits in ERROR while the rest of the case is kept; it can be retried on a fixed version."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import CaseRuntime, EngineError, ManualClock, ProcessModel, ScriptError, StateError, parse_process
from tests.conftest import DATA

FLOW = DATA / "incidents"


def _model(name: str = "incident_flow.bpmn", replace: tuple[str, str] | None = None) -> ProcessModel:
    text = (FLOW / name).read_text()
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return parse_process(text)


@pytest.fixture(scope="module")
def broken() -> ProcessModel:
    return _model()


@pytest.fixture(scope="module")
def fixed() -> ProcessModel:
    return _model("incident_flow_fixed.bpmn")


def _submitted(model: ProcessModel) -> CaseRuntime:
    runtime = CaseRuntime.start(model, {"path": "form", "amount": 5}, ManualClock())
    [task] = runtime.ready_user_tasks()
    with pytest.raises(ScriptError, match="name 'rate' is not defined"):
        runtime.complete_user_task(task.task_id, {"amount": 5})
    return runtime


def test_a_failing_script_after_a_user_task_waits_in_error_and_the_task_stays_completed(broken: ProcessModel) -> None:
    runtime = _submitted(broken)
    [stopped] = runtime.stopped
    assert (stopped.element_id, stopped.name) == ("compute_fee", "Compute the fee")
    assert stopped.error is not None and "rate" in str(stopped.error)
    assert runtime.failed_steps() == [stopped]  # errors are not compared
    assert runtime.ready_user_tasks() == [] and not runtime.completed
    state, state_format = runtime.dump()
    restored = CaseRuntime.restore(broken, state, state_format, "T-1")
    assert [f.element_id for f in restored.failed_steps()] == ["compute_fee"]
    assert restored.stopped == []  # only a run fills it


def test_a_user_task_that_fails_itself_leaves_nothing_stopped(broken: ProcessModel) -> None:
    anchor = "</bpmn:extensionElements>\n      <bpmn:incoming>flow_form</bpmn:incoming>"
    model = _model(
        "incident_flow_fixed.bpmn", (anchor, "<spiffworkflow:postScript>x = nope</spiffworkflow:postScript>\n" + anchor)
    )
    runtime = CaseRuntime.start(model, {"path": "form"}, ManualClock())
    [task] = runtime.ready_user_tasks()
    with pytest.raises(ScriptError, match="nope"):
        runtime.complete_user_task(task.task_id, {"amount": 1}, run_on=False)
    assert runtime.stopped == [] and runtime.failed_steps() == []


def test_run_on_false_completes_the_task_and_leaves_the_engine_steps_to_the_caller(broken: ProcessModel) -> None:
    runtime = CaseRuntime.start(broken, {"path": "form"}, ManualClock())
    [task] = runtime.ready_user_tasks()
    completion = runtime.complete_user_task(task.task_id, {"amount": 2}, run_on=False)
    assert completion.changed == ("amount",) and runtime.failed_steps() == []
    with pytest.raises(ScriptError):
        runtime.run_engine()
    assert [f.element_id for f in runtime.stopped] == ["compute_fee"]


def test_the_other_branches_run_on_and_their_timers_are_armed() -> None:
    clock = ManualClock()
    model = parse_process((FLOW / "two_branches.bpmn").read_text())
    with pytest.raises(ScriptError, match="divisor"):
        CaseRuntime.start(model, {}, clock)
    runtime = CaseRuntime.start(model, {}, clock, run=False)
    with pytest.raises(ScriptError):
        runtime.run_engine()
    assert [f.element_id for f in runtime.stopped] == ["broken_script"]
    assert [t.element_id for t in runtime.ready_user_tasks()] == ["fill_form"]
    [timer] = runtime.pending_timers()
    assert timer.element_id == "reminder" and timer.due == clock.now() + timedelta(days=1)


def test_retrying_without_a_fix_fails_the_same_way_and_keeps_the_task_in_error(broken: ProcessModel) -> None:
    runtime = _submitted(broken)
    with pytest.raises(ScriptError, match="rate"):
        runtime.retry_failed_steps()
    assert [f.element_id for f in runtime.stopped] == ["compute_fee"]
    assert [f.element_id for f in runtime.failed_steps()] == ["compute_fee"]


def test_moved_to_a_fixed_version_the_retry_goes_on(broken: ProcessModel, fixed: ProcessModel) -> None:
    runtime = _submitted(broken)
    moved = runtime.move_to(fixed, "T-1")
    assert [f.element_id for f in moved.failed_steps()] == ["compute_fee"]
    assert moved.retry_failed_steps() == ["compute_fee"]
    assert moved.stopped == [] and moved.failed_steps() == []
    assert moved.data["fee"] == 10 and [t.element_id for t in moved.ready_user_tasks()] == ["review"]
    assert [f.element_id for f in runtime.failed_steps()] == ["compute_fee"]  # the old runtime is untouched


def test_a_version_that_lacks_an_element_of_the_case_is_refused(broken: ProcessModel) -> None:
    runtime = _submitted(broken)
    renamed = _model("incident_flow_fixed.bpmn", ('"compute_fee"', '"compute_fee_v2"'))
    with pytest.raises(StateError, match="it has no compute_fee"):
        runtime.move_to(renamed, "T-1")
    other = parse_process((FLOW / "two_branches.bpmn").read_text())
    with pytest.raises(StateError, match="runs incident_flow, not two_branches"):
        runtime.move_to(other, "T-1")


def test_retrying_when_nothing_failed_is_an_engine_error(fixed: ProcessModel) -> None:
    runtime = CaseRuntime.start(fixed, {"path": "form"}, ManualClock())
    with pytest.raises(EngineError, match="no step of this case waits after a failure"):
        runtime.retry_failed_steps()
