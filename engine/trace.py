"""The way a case went through its diagram, read from a restored runtime: what it did, where it is now.

SpiffWorkflow keeps every task a case met in its task tree (a loop back, such as a correction round,
adds new tasks for the same elements), in each called process's own tree too, each with its state and
the moment it last changed state (``Task.last_state_change``, SpiffWorkflow's own wall clock: a
completed task's is when it completed). So the path is the COMPLETED tasks of the diagram's elements
(not SpiffWorkflow's own helper tasks, which have no element id) in the order they completed; the
sequence flows taken are each reached task's nearest element ancestor in the tree and the task; now
is the READY user tasks, the message waits and the call activities still running; and a timer waits
while its event task is WAITING. Nothing here changes the runtime.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent, ReceiveTask
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

if TYPE_CHECKING:
    from .runtime import CaseRuntime

# What a step of the path is, for the pages that list or draw it.
USER, WAIT, TIMER, CALL, START, END, SCRIPT, DECISION, GATEWAY, EVENT, OTHER = (
    "user",
    "wait",
    "timer",
    "call",
    "start",
    "end",
    "script",
    "decision",
    "gateway",
    "event",
    "other",
)
# The states of a task the case has reached (the flow into it was taken).
_REACHED = TaskState.COMPLETED | TaskState.STARTED | TaskState.READY | TaskState.WAITING | TaskState.ERROR


@dataclass(frozen=True)
class TraceStep:
    """One element the case went through (or is at): which, of what kind, in which process, when."""

    task_id: str
    element_id: str
    name: str  # the diagram's name (the analyst's words; pages translate by element id)
    kind: str  # USER, WAIT, TIMER, CALL, START, END, SCRIPT, DECISION, GATEWAY, EVENT or OTHER
    process_id: str  # the process the element belongs to (a called one for a shared step)
    called_by: str | None  # the call activity of the case's own diagram the step runs under
    when: datetime | None  # completed (a path step) or became current (a current one), SpiffWorkflow's clock
    # A user task's data as it completed (what its form gave, with the case data it saw); None otherwise.
    data: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # Stopped by an interrupting boundary event (a deadline) before it completed.
    interrupted: bool = False


@dataclass(frozen=True)
class WaitingTimer:
    """A timer the case waits on: its element, the activity it sits on (boundary timers), when it falls due."""

    element_id: str
    attached_to: str | None
    due: datetime
    interrupting: bool


@dataclass(frozen=True)
class CaseTrace:
    """The path a case took, where it is now and what it waits for, across its call activities."""

    steps: tuple[TraceStep, ...]  # every element completed (or interrupted), in the order it happened
    flows: tuple[tuple[str, str], ...]  # (source, target) element ids of each sequence flow taken, once each
    current: tuple[TraceStep, ...]  # READY user tasks, message waits, call activities still running
    timers: tuple[WaitingTimer, ...]  # the timers the case waits on
    failed: tuple[str, ...]  # element ids of steps that failed and wait for a retry (incidents)
    completed: bool  # the case reached an end of its process

    @property
    def taken(self) -> frozenset[str]:
        """The element ids on the path (completed or interrupted), in any process of the bundle."""
        return frozenset(step.element_id for step in self.steps)

    @property
    def current_ids(self) -> frozenset[str]:
        """The element ids the case is at now."""
        return frozenset(step.element_id for step in self.current)

    @property
    def timer_ids(self) -> frozenset[str]:
        """The element ids of the timers the case waits on."""
        return frozenset(timer.element_id for timer in self.timers)

    def user_steps(self) -> tuple[TraceStep, ...]:
        """The completed user tasks, in order, each with its data."""
        return tuple(step for step in self.steps if step.kind == USER and not step.interrupted)


def case_trace(runtime: CaseRuntime) -> CaseTrace:
    """The trace of a (restored) case; reads the runtime, never changes it."""
    workflow = runtime.workflow
    tasks = list(workflow.get_tasks())  # depth first, called processes where they are called
    names = runtime.model.element_names
    steps: list[tuple[datetime, int, TraceStep]] = []
    current: list[TraceStep] = []
    flows: dict[tuple[str, str], None] = {}
    for index, task in enumerate(tasks):
        spec = task.task_spec
        element = spec.bpmn_id
        if element is None:  # SpiffWorkflow's own helpers (start, end joins, boundary splits)
            continue
        if task.has_state(_REACHED) and not isinstance(spec, BoundaryEvent):
            source = _element_ancestor(task)
            if source is not None:
                flows.setdefault((source.task_spec.bpmn_id, element), None)
        if task.has_state(TaskState.COMPLETED):
            step = _step(runtime, task, names, with_data=isinstance(spec, UserTask))
        elif task.has_state(TaskState.CANCELLED) and _interrupted(task):
            step = _step(runtime, task, names, interrupted=True)
        else:
            if _is_current(task):
                current.append(_step(runtime, task, names))
            continue
        # In the order they happened; tasks of one engine run that share a moment, in tree order.
        steps.append((step.when or _EPOCH, index, step))
    steps.sort(key=lambda entry: entry[:2])
    return CaseTrace(
        steps=tuple(step for _, _, step in steps),
        flows=tuple(flows),
        current=tuple(current),
        timers=tuple(
            WaitingTimer(t.element_id, t.attached_to, t.due, t.interrupting) for t in runtime.pending_timers()
        ),
        failed=tuple(f.element_id for f in runtime.failed_steps()),
        completed=runtime.completed,
    )


_EPOCH = datetime.fromtimestamp(0, UTC)


def _step(
    runtime: CaseRuntime, task: Task, names: dict[str, str], *, with_data: bool = False, interrupted: bool = False
) -> TraceStep:
    spec = task.task_spec
    element = spec.bpmn_id
    return TraceStep(
        task_id=str(task.id),
        element_id=element,
        name=names.get(element) or getattr(spec, "bpmn_name", None) or element,
        kind=_kind(spec),
        process_id=task.workflow.spec.name,
        called_by=_called_by(runtime, task),
        when=datetime.fromtimestamp(task.last_state_change, UTC) if task.last_state_change else None,
        data=copy.deepcopy(dict(task.data)) if with_data else None,
        interrupted=interrupted,
    )


def _element_ancestor(task: Task) -> Task | None:
    """The nearest task above ``task`` in its process's tree that is a diagram element (the source of the
    flow the case took into it); None at the start of a process."""
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent


def _interrupted(task: Task) -> bool:
    """A cancelled activity that was reached, then stopped by an interrupting boundary event of its own
    (its sibling under SpiffWorkflow's boundary split completed)."""
    parent = task.parent
    if parent is None or not parent.has_state(TaskState.COMPLETED):
        return False
    return any(
        isinstance(sibling.task_spec, BoundaryEvent) and sibling.has_state(TaskState.COMPLETED)
        for sibling in parent.children
        if sibling is not task
    )


def _is_current(task: Task) -> bool:
    """Where the case is now: a READY user task, a message wait, a call activity still running."""
    spec = task.task_spec
    if task.has_state(TaskState.READY):
        return isinstance(spec, UserTask)
    if task.has_state(TaskState.STARTED):
        return isinstance(spec, SubWorkflowTask)
    if task.has_state(TaskState.WAITING) and isinstance(spec, CatchingEvent) and not isinstance(spec, BoundaryEvent):
        return _has(spec, MessageEventDefinition) or isinstance(spec, ReceiveTask)
    return False


def _called_by(runtime: CaseRuntime, task: Task) -> str | None:
    """The call activity of the top diagram under which ``task`` runs (None in the diagram itself)."""
    workflow = task.workflow
    caller: str | None = None
    while workflow is not runtime.workflow and workflow.parent_task_id is not None:
        found = runtime.workflow.get_task_from_id(workflow.parent_task_id)
        caller = found.task_spec.bpmn_id
        workflow = found.workflow
    return caller


def _kind(spec: Any) -> str:
    if isinstance(spec, UserTask):
        return USER
    if isinstance(spec, SubWorkflowTask):  # a call activity (or an embedded subprocess)
        return CALL
    if isinstance(spec, StartEvent):
        return START
    if isinstance(spec, EndEvent):
        return END
    if isinstance(spec, ScriptTask):
        return SCRIPT
    if isinstance(spec, BusinessRuleTaskMixin):
        return DECISION
    if isinstance(spec, ExclusiveGateway | InclusiveGateway | ParallelGateway):
        return GATEWAY
    if isinstance(spec, CatchingEvent):
        if _has(spec, TimerEventDefinition):
            return TIMER
        if isinstance(spec, ReceiveTask) or _has(spec, MessageEventDefinition):
            return WAIT
        return EVENT
    return OTHER


def _has(spec: Any, kind: type) -> bool:
    definition = getattr(spec, "event_definition", None)
    found = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    return any(isinstance(item, kind) for item in found)
