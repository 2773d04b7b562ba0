"""Every place where the engine relies on SpiffWorkflow internals, and why.

SpiffWorkflow's public API does not cover five things the engine needs, so the
engine reaches past it here and nowhere else. Each reach is listed in
``REACHES`` (what is touched, with which signature, by which function here);
``tests/engine/test_spiff_internals.py`` checks every entry and each behaviour,
so an upgrade of SpiffWorkflow that moves one of them fails loudly, naming it.

1. Timers on the engine's clock. Spiff's timer events compare their due time
   with the wall clock whenever the task is updated. The engine decides when a
   timer fires (the scheduler reads the due time from the database), so the due
   time computed from the engine's clock is kept in the task's internal data and
   Spiff's own ``event_value`` is parked at a far-future sentinel, which the wall
   clock never reaches. Firing sets Spiff's ``event_fired`` flag and re-runs the
   spec's ``_update`` so the task completes as if Spiff had fired it.
2. Waiting event tasks. ``waiting_events()`` returns descriptions without the
   tasks; the engine needs the tasks (their ids, specs and internal data), which
   only the workflow's ``event_manager`` holds.
3. State without the spec. Spiff's workflow converter copies the whole diagram
   into every state. The spec-less converter reuses the converter's building
   blocks (``WorkflowConverter.to_dict``, ``mapping_to_dict``,
   ``set_default_attributes``, ``subprocesses_from_dict``, ``deserializing=True``)
   to write and read only the task tree and data. Task data is encoded the way
   ``serialize_json`` does it: with the registry in encoder mode and the
   serializer's JSON encoder class, so datetimes and UUIDs round-trip.
4. Gateway conditions. Deployment compiles every condition under the sandbox;
   a gateway keeps them as ``cond_task_specs`` pairs of a private condition
   class whose ``args[0]`` is the expression text.
5. Script errors. The sandbox's ScriptError reaches the engine wrapped in a
   WorkflowTaskException as its cause, context or ``exception`` attribute
   (which one depends on the kind of task), and the failing element is the
   exception's ``task_spec``.
6. Decision tables. Deployment compiles every expression of a business rule
   task's decision table under the sandbox. The task spec keeps its table in
   ``dmnEngine.decision_table``, and the engine evaluates an input entry not as
   written but combined with the input expression (``DMNEngine.evaluate``):
   ``?`` stands for the input, otherwise ``(input) == (entry)`` or, when the
   entry starts with an operator, ``input entry``. ``decision_expressions``
   builds the same texts; ``decision_table`` hands the table to
   ``engine.decisions``, which shows its rows.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.task import Task

if TYPE_CHECKING:
    from .spec import ProcessModel

# The SpiffWorkflow releases this module was written and tested for: [lowest, first refused).
SPIFF_VERSIONS = ((3, 2, 0), (3, 3, 0))

PARKED_EVENT_VALUE = "9999-12-31T23:59:59+00:00"
DUE_KEY = "kitas_due"


@dataclass(frozen=True)
class Reach:
    """One SpiffWorkflow internal the engine uses: where it is, its expected parameters, who uses it."""

    target: str  # dotted path: module:Class.attribute
    parameters: tuple[str, ...] | None  # expected parameter names (None: an attribute, not a callable)
    used_by: str  # the function of this module that relies on it
    why: str


REACHES: tuple[Reach, ...] = (
    Reach("SpiffWorkflow.task:Task._get_internal_data", ("self", "name", "default"), "timer_due", "read the due time"),
    Reach("SpiffWorkflow.task:Task._set_internal_data", ("self", "kwargs"), "park_timer", "park Spiff's timer value"),
    Reach("SpiffWorkflow.task:Task.internal_data", None, "park_timer", "timers keep their values there"),
    Reach("SpiffWorkflow.specs.base:TaskSpec._update", ("self", "my_task"), "fire_waiting_timer", "re-check a timer"),
    Reach(
        "SpiffWorkflow.specs.MultiChoice:MultiChoice.cond_task_specs",
        None,
        "gateway_conditions",
        "(condition, target) pairs of a gateway",
    ),
    Reach(
        "SpiffWorkflow.bpmn.specs.bpmn_task_spec:_BpmnCondition.args",
        None,
        "gateway_conditions",
        "the condition's expression text is args[0]",
    ),
    Reach(
        "SpiffWorkflow.dmn.specs.business_rule_task_mixin:BusinessRuleTaskMixin.dmnEngine",
        None,
        "decision_expressions",
        "the decision engine of a business rule task",
    ),
    Reach(
        "SpiffWorkflow.dmn.engine.DMNEngine:DMNEngine.decision_table",
        None,
        "decision_expressions",
        "the table the decision engine evaluates",
    ),
    Reach(
        "SpiffWorkflow.dmn.engine.DMNEngine:DMNEngine.evaluate",
        ("self", "input_expr", "match_expr", "task"),
        "decision_expressions",
        "how an input entry is combined with the input expression",
    ),
    Reach("SpiffWorkflow.bpmn.workflow:BpmnWorkflow.event_manager", None, "waiting_event_tasks", "waiting tasks"),
    Reach(
        "SpiffWorkflow.bpmn.specs.control:BpmnStartTask.trigger_specs",
        None,
        "event_subprocess_starts",
        "the event subprocesses an event starts wait on the process's start, not as tasks",
    ),
    Reach("SpiffWorkflow.bpmn.util.event:EventManager.tasks", None, "waiting_event_tasks", "task id -> task"),
    Reach(
        "SpiffWorkflow.bpmn.serializer.helpers.registry:DefaultRegistry._encoder_mode",
        None,
        "encode_state",
        "encode task data as serialize_json does",
    ),
    Reach(
        "SpiffWorkflow.bpmn.serializer.workflow:BpmnWorkflowSerializer._encoder_cls",
        None,
        "encode_state",
        "the JSON encoder that knows datetimes and UUIDs",
    ),
    Reach(
        "SpiffWorkflow.bpmn.serializer.default.workflow:WorkflowConverter.to_dict",
        ("self", "workflow"),
        "SpeclessWorkflowConverter.to_dict",
        "the workflow's attributes without its spec",
    ),
    Reach(
        "SpiffWorkflow.bpmn.serializer.helpers.bpmn_converter:BpmnConverter.mapping_to_dict",
        ("self", "mapping", "kwargs"),
        "SpeclessWorkflowConverter.to_dict",
        "convert the subprocesses",
    ),
    Reach(
        "SpiffWorkflow.bpmn.serializer.helpers.bpmn_converter:BpmnConverter.mapping_from_dict",
        ("self", "mapping", "key_class", "kwargs"),
        "SpeclessWorkflowConverter.from_dict",
        "restore the task tree",
    ),
    Reach(
        "SpiffWorkflow.bpmn.serializer.default.workflow:WorkflowConverter.set_default_attributes",
        ("self", "workflow", "dct"),
        "SpeclessWorkflowConverter.from_dict",
        "restore data, last task, correlations",
    ),
    Reach(
        "SpiffWorkflow.bpmn.serializer.default.workflow:BpmnWorkflowConverter.subprocesses_from_dict",
        ("self", "dct", "workflow", "top_workflow"),
        "SpeclessWorkflowConverter.from_dict",
        "restore subprocesses and reconnect their completion",
    ),
    Reach(
        "SpiffWorkflow.bpmn.workflow:BpmnWorkflow.__init__",
        ("self", "spec", "subprocess_specs", "script_engine", "kwargs"),
        "SpeclessWorkflowConverter.from_dict",
        "an empty workflow to restore into (deserializing=True)",
    ),
)


def installed_spiff_version() -> tuple[int, ...]:
    """The installed SpiffWorkflow release as a tuple of integers."""
    return tuple(int(part) for part in version("SpiffWorkflow").split(".")[:3] if part.isdigit())


# -- timers -------------------------------------------------------------------


def waiting_event_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Every task (of the workflow and its subprocesses) waiting for an event: timers, messages, signals."""
    return list(workflow.event_manager.tasks.values())


def event_subprocess_starts(workflow: BpmnWorkflow) -> list[Any]:
    """The start event specs of the event subprocesses a message or signal starts (no task waits for them:
    the process's start task keeps their names, and catching the event starts the subprocess)."""
    found: list[Any] = []
    for name in getattr(workflow.spec.start, "trigger_specs", None) or []:
        sub = workflow.subprocess_specs.get(name)
        found.extend(getattr(sub, "bpmn_start_events", None) or [])
    return found


def timer_due(task: Task) -> datetime | None:
    """The due time the engine recorded for a timer task, or None if it is not armed yet."""
    due = task._get_internal_data(DUE_KEY)
    return datetime.fromisoformat(due) if due is not None else None


def park_timer(task: Task, due: datetime) -> None:
    """Record the engine's due time and park Spiff's own wall-clock check at a date it never reaches."""
    task._set_internal_data(**{DUE_KEY: due.isoformat(), "event_value": PARKED_EVENT_VALUE})


def fire_waiting_timer(task: Task) -> None:
    """Mark a waiting timer as fired and let Spiff complete it (and run on to the next wait)."""
    task._set_internal_data(event_fired=True)
    task.task_spec._update(task)


# A cycle timer keeps {'cycles': left (-1: for ever), 'next': ISO time, 'duration': seconds} as its event value;
# Spiff starts the timer's branch once each time 'next' has passed, and completes the timer when none is left.
PASSED_EVENT_VALUE = "1970-01-01T00:00:00+00:00"


def cycles_left(task: Task) -> int | None:
    """How many times a cycle timer still fires (-1: for ever; 0: done), None before it is armed."""
    value = task._get_internal_data("event_value")
    return int(value["cycles"]) if isinstance(value, dict) and "cycles" in value else None


def cycle_interval(task: Task) -> float:
    """The seconds between two rounds of an armed cycle timer."""
    return float(task._get_internal_data("event_value")["duration"])


def park_cycle_timer(task: Task, cycles: int, due: datetime, seconds: float) -> None:
    """Record the engine's due time of a cycle timer's next firing and park Spiff's own check."""
    value = {"cycles": cycles, "next": PARKED_EVENT_VALUE, "duration": seconds}
    task._set_internal_data(**{DUE_KEY: due.isoformat(), "event_value": value})


def fire_cycle_timer(task: Task) -> int:
    """Fire one round of a cycle timer (Spiff starts its branch once); returns the rounds left after it."""
    value = dict(task._get_internal_data("event_value"))
    value["next"] = PASSED_EVENT_VALUE
    task._set_internal_data(event_value=value)
    task.task_spec._update(task)
    after = task._get_internal_data("event_value")
    return int(after["cycles"]) if isinstance(after, dict) else 0


def disarm_timer(task: Task) -> None:
    """Forget the engine's due time of a timer that fires no more."""
    task.internal_data.pop(DUE_KEY, None)


# -- specs ----------------------------------------------------------------------


def gateway_conditions(task_spec: Any) -> list[str]:
    """The condition expressions of a gateway's outgoing flows (none for other task specs)."""
    conditions = []
    for condition, _target in getattr(task_spec, "cond_task_specs", None) or []:
        args = getattr(condition, "args", None)
        if args and isinstance(args[0], str):
            conditions.append(args[0])
    return conditions


# DMNEngine.evaluate replaces a '?' outside quotes by this name and passes the input value under it.
_DMN_INPUT = "dmninputexpr"
_DMN_QUESTION_MARK = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")


@dataclass(frozen=True)
class DecisionExpression:
    """One expression of a decision table as the engine evaluates it, and where it stands."""

    element_id: str  # the DMN element: an input, or an input/output entry of a rule
    where: str  # e.g. "decision table worker_fee_table, rule 2, input 'Contract length'"
    source: str


def decision_table(task_spec: Any) -> Any:
    """The decision table a business rule task evaluates (its inputs, outputs and rules); None for other specs."""
    return getattr(getattr(task_spec, "dmnEngine", None), "decision_table", None)


def decision_expressions(task_spec: Any) -> list[DecisionExpression]:
    """Every expression a business rule task's decision table evaluates (none for other task specs)."""
    table = decision_table(task_spec)
    if table is None:
        return []
    found: list[DecisionExpression] = []
    table_name = f"decision table {table.id}"
    for column in table.inputs:
        if column.expression:
            where = f"{table_name}, input '{column.label or column.id}'"
            found.append(DecisionExpression(column.id, where, column.expression))
    for rule in table.rules:
        rule_name = f"{table_name}, rule {rule.row_number}"
        for entry in rule.inputEntries:
            column = entry.input
            where = f"{rule_name}, input '{column.label or column.id}'"
            for text in entry.lhs:
                if text is not None:
                    found.append(DecisionExpression(entry.id, where, _input_test(column.expression or "", text)))
        for out in rule.outputEntries:
            text = getattr(out, "text", None)
            if text:
                where = f"{rule_name}, output '{out.output.name or out.output.label}'"
                found.append(DecisionExpression(out.id, where, text))
    return found


def _input_test(input_expression: str, entry: str) -> str:
    """The expression DMNEngine.evaluate builds from an input expression and a rule's input entry."""
    entry = _DMN_QUESTION_MARK.sub(_DMN_INPUT, entry)
    if _DMN_INPUT in entry:
        return entry
    try:
        ast.parse(entry)
        return f"({input_expression}) == ({entry})"
    except SyntaxError:
        return input_expression + entry


# -- script errors ------------------------------------------------------------


def wrapped_cause(exc: BaseException) -> BaseException | None:
    """The exception a SpiffWorkflowException wraps (the sandbox's own error travels there)."""
    return exc.__cause__ or exc.__context__ or getattr(exc, "exception", None)


def failing_element(exc: BaseException) -> str | None:
    """The element id of the task spec a SpiffWorkflow exception names, if any."""
    return getattr(getattr(exc, "task_spec", None), "bpmn_id", None)


# -- state without the spec ---------------------------------------------------


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a top-level workflow without its process and subprocess specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """The workflow's task tree, data, subprocesses and events; not its specs."""
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], model: ProcessModel | None = None) -> BpmnWorkflow:
        """Rebuild a workflow from ``dct`` around the specs of ``model``."""
        if model is None:
            raise ValueError("a case state can only be restored together with its process model")
        workflow = self.target_class(model.spec, dict(model.subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def make_state_serializer(config: dict[Any, Any]) -> BpmnWorkflowSerializer:
    """A serializer of ``config`` whose top-level workflows are written without their specs."""
    config = dict(config)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def encode_state(serializer: BpmnWorkflowSerializer, workflow: BpmnWorkflow) -> str:
    """The compact JSON of a workflow, encoded exactly as ``serialize_json`` would (without its version key)."""
    registry = serializer.registry
    registry._encoder_mode = True
    try:
        dct = serializer.to_dict(workflow)
        return json.dumps(dct, cls=serializer._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def decode_state(serializer: BpmnWorkflowSerializer, dct: dict[str, Any], model: ProcessModel) -> BpmnWorkflow:
    """Restore a workflow from a state dict (already in the current format) around ``model``'s specs."""
    workflow = serializer.registry.restore(dct, model=model)
    if not isinstance(workflow, BpmnWorkflow):
        raise ValueError("the state holds no workflow")
    return workflow
