"""The SpiffWorkflow internals the engine relies on are still there and still behave as it expects.

A SpiffWorkflow upgrade that moves any of them fails here first, with a message
naming the internal and the function of engine/spiff_internals.py that uses it.
"""

from __future__ import annotations

import importlib
import inspect
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import CaseRuntime, ManualClock, ProcessModel, ScriptError, parse_process
from engine import spiff_internals as internals
from engine.sandbox import make_script_engine
from tests.worker_data import task_spec, worker_model

DATA = Path(__file__).resolve().parents[1] / "data"
BPMN = Path(__file__).resolve().parents[2] / "bpmn"
WHERE = "engine/spiff_internals.py"


def _changed(what: str, reach: internals.Reach | None = None, used_by: str | None = None) -> str:
    """The failure message: which internal changed and where the engine relies on it."""
    found = ".".join(map(str, internals.installed_spiff_version()))
    user = reach.used_by if reach is not None else used_by
    why = f" ({reach.why})" if reach is not None else ""
    return f"SpiffWorkflow {found} changed {what}{why}; {WHERE}:{user} relies on it"


@pytest.fixture(scope="module")
def timer_model() -> ProcessModel:
    return parse_process((DATA / "timer_only.bpmn").read_text())


@pytest.fixture()
def waiting(timer_model: ProcessModel) -> tuple[CaseRuntime, Task]:
    """A timer_only case waiting on its one-hour timer, armed from a clock far behind the wall clock."""
    runtime = CaseRuntime.start(timer_model, {"fired_count": 0}, ManualClock(datetime(2020, 1, 1, tzinfo=UTC)))
    tasks = internals.waiting_event_tasks(runtime.workflow)
    assert len(tasks) == 1, _changed("BpmnWorkflow.event_manager", used_by="waiting_event_tasks")
    return runtime, tasks[0]


def _samples(waiting: tuple[CaseRuntime, Task]) -> dict[str, Any]:
    """Live objects whose instance attributes the reaches name, keyed by class name."""
    runtime, task = waiting
    serializer = internals.make_state_serializer(SPIFF_CONFIG)
    worker = worker_model()
    gateway = task_spec(worker, "gw_sponsor")
    rule_task = task_spec(worker, "compute_fee")
    return {
        "BusinessRuleTaskMixin": rule_task,
        "DMNEngine": rule_task.dmnEngine,
        "Task": task,
        "BpmnWorkflow": runtime.workflow,
        "BpmnStartTask": runtime.workflow.spec.start,
        "EventManager": runtime.workflow.event_manager,
        "DefaultRegistry": serializer.registry,
        "BpmnWorkflowSerializer": serializer,
        "MultiChoice": gateway,
        "_BpmnCondition": gateway.cond_task_specs[0][0],
    }


def test_the_installed_spiffworkflow_is_the_release_the_internals_were_written_for() -> None:
    lowest, refused = internals.SPIFF_VERSIONS
    found = internals.installed_spiff_version()
    assert lowest <= found < refused, (
        f"SpiffWorkflow {found} is installed but {WHERE} was written for {lowest} up to (not including) {refused}: "
        "check every entry of REACHES and this file, then widen SPIFF_VERSIONS"
    )


@pytest.mark.parametrize("reach", internals.REACHES, ids=lambda r: r.target.split(":")[1])
def test_every_internal_the_engine_reaches_exists_with_its_signature(
    reach: internals.Reach, waiting: tuple[CaseRuntime, Task]
) -> None:
    module_name, path = reach.target.split(":")
    class_name, attribute = path.split(".")
    try:
        owner = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        pytest.fail(_changed(f"{module_name}.{class_name} (it is gone)", reach))
    if reach.parameters is None:
        sample = _samples(waiting)[class_name]
        assert isinstance(sample, owner), _changed(f"the class of {class_name}", reach)
        assert hasattr(sample, attribute), _changed(f"{class_name}.{attribute} (no such attribute)", reach)
        return
    member = getattr(owner, attribute, None)
    assert callable(member), _changed(f"{class_name}.{attribute} (no such method)", reach)
    parameters = tuple(inspect.signature(member).parameters)
    assert parameters == reach.parameters, _changed(
        f"the signature of {class_name}.{attribute}: {parameters}, expected {reach.parameters}", reach
    )


def test_a_parked_timer_does_not_fire_on_the_wall_clock(waiting: tuple[CaseRuntime, Task]) -> None:
    runtime, task = waiting
    assert internals.timer_due(task) == datetime(2020, 1, 1, 1, tzinfo=UTC)
    # The due time lies years behind the wall clock: only the parked value keeps Spiff from firing.
    runtime.workflow.refresh_timers()
    runtime.workflow.do_engine_steps()
    assert task.state == TaskState.WAITING, _changed("how timers compare event_value with now", used_by="park_timer")
    assert runtime.data.get("fired_count") == 0


def test_an_unparked_timer_would_fire_on_the_wall_clock(waiting: tuple[CaseRuntime, Task]) -> None:
    """The counter-proof: had Spiff kept the due time as its value, its own check would fire the timer now."""
    runtime, task = waiting
    due = internals.timer_due(task)
    assert due is not None
    task.internal_data["event_value"] = due.isoformat()
    runtime.workflow.refresh_timers()
    assert task.state != TaskState.WAITING, _changed("timers' own wall-clock check", used_by="park_timer")


def test_firing_a_waiting_timer_completes_it_and_runs_on(waiting: tuple[CaseRuntime, Task]) -> None:
    runtime, task = waiting
    internals.fire_waiting_timer(task)
    runtime.workflow.do_engine_steps()
    assert task.state == TaskState.COMPLETED, _changed(
        "TaskSpec._update on a fired timer", used_by="fire_waiting_timer"
    )
    assert runtime.completed and runtime.data["fired_count"] == 1
    assert internals.waiting_event_tasks(runtime.workflow) == []


def test_the_state_encoder_round_trips_dates_uuids_and_durations(waiting: tuple[CaseRuntime, Task]) -> None:
    runtime, task = waiting
    values = {
        "received_at": datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=7))),
        "case_key": UUID("5b0c7a52-9a8e-4c3e-8c1e-3f1d2b7a6e01"),
        "grace": timedelta(days=3, seconds=60),
        "nested": {"when": datetime(2026, 2, 1, tzinfo=UTC), "keys": [UUID(int=7)]},
    }
    task.data.update(values)
    runtime.workflow.data.update(values)
    serializer = internals.make_state_serializer(SPIFF_CONFIG)
    text = internals.encode_state(serializer, runtime.workflow)
    dct = json.loads(text)
    assert "spec" not in dct and "subprocess_specs" not in dct, _changed(
        "the workflow converter", used_by="encode_state"
    )
    restored = internals.decode_state(serializer, dct, runtime.model)
    again = restored.get_task_from_id(task.id)
    for source in (again.data, restored.data):
        assert {k: source[k] for k in values} == values, _changed("the registry's encoder", used_by="encode_state")
    assert internals.timer_due(again) == internals.timer_due(task)
    assert serializer.registry._encoder_mode is False  # the flip is undone


def test_gateway_conditions_are_read_from_the_spec() -> None:
    gateway = task_spec(worker_model(), "gw_sponsor")
    conditions = internals.gateway_conditions(gateway)
    assert conditions and all(isinstance(c, str) and c.strip() for c in conditions), _changed(
        "how gateways keep their conditions", used_by="gateway_conditions"
    )


def test_a_sandbox_error_travels_inside_spiffs_exception_with_its_element() -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(DATA / "sandbox_script.bpmn"))
    workflow = BpmnWorkflow(parser.get_spec("sandbox_open"), script_engine=make_script_engine(ManualClock()))
    with pytest.raises(SpiffWorkflowException) as failed:
        workflow.do_engine_steps()
    cause = internals.wrapped_cause(failed.value)
    assert isinstance(cause, ScriptError), _changed("how script errors are wrapped", used_by="wrapped_cause")
    assert internals.failing_element(failed.value) == "read_file", _changed(
        "WorkflowTaskException.task_spec", used_by="failing_element"
    )


def test_decision_expressions_are_what_the_decision_engine_evaluates() -> None:
    """Each text decision_expressions builds evaluates, through Spiff's own DMNEngine, as the rule does."""
    rule_task = task_spec(worker_model(), "compute_fee")
    found = {e.element_id: e.source for e in internals.decision_expressions(rule_task)}
    expected = {
        "input_kitas_type": "kitas_type",
        "input_duration_months": "duration_months",
        "rule_worker_6_type": '(kitas_type) == ("worker")',
        "rule_worker_6_duration": "(duration_months) == (6)",
        "rule_worker_6_output": "1200000",
        "rule_student_48_duration": "(duration_months) == (48)",
        "rule_student_48_output": "12000000",
    }
    # An empty cell (no index code asked) matches anything: it carries no expression at all.
    assert not any(key.endswith("_index") for key in found)
    assert {key: found.get(key) for key in expected} == expected, _changed(
        "how a business rule task keeps its decision table", used_by="decision_expressions"
    )

    class Recorder:
        """A script engine that records what DMNEngine.evaluate asks it to evaluate."""

        def __init__(self) -> None:
            self.seen: list[str] = []

        def validate(self, text: str) -> None:
            compile(text, "<dmn>", "eval")

        def evaluate(self, task: Any, text: str, external_context: Any = None) -> bool:
            self.seen.append(text)
            return True

    recorder = Recorder()

    class FakeTask:
        data = {"kitas_type": "worker", "index_code": "E23", "duration_months": 12}

        class workflow:  # noqa: N801 - stands for task.workflow
            script_engine = recorder

    table = rule_task.dmnEngine.decision_table
    for rule in table.rules:
        for entry in rule.inputEntries:
            for text in entry.lhs:
                rule_task.dmnEngine.evaluate(entry.input.expression, text, FakeTask())
    built = {found[e.id] for rule in table.rules for e in rule.inputEntries if e.id in found}
    assert built <= set(recorder.seen), _changed(
        "how DMNEngine.evaluate combines input and entry", used_by="decision_expressions"
    )
