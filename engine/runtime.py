"""One running case: start, restore, complete user tasks, fire timers, deliver messages.

The engine never commits and never reads the wall clock directly: the caller
passes a Clock, and timers fire only when the caller says so (the scheduler
decides that from the database). SpiffWorkflow's own wall-clock check is
disarmed by parking each timer's value at a far-future sentinel once the
engine has recorded the due time it computed from its clock.

An engine task that fails while the case runs on (a script, a gateway condition)
is left in SpiffWorkflow's ERROR state, and the case keeps what ran before it:
``run_engine`` runs every other branch as far as it goes, then raises the first
ScriptError with the stopped tasks in ``stopped``. Such a runtime can be saved as
it is; ``retry_failed_steps`` runs the stopped tasks again (after a fix, on the
version ``move_to`` gives).

A case runs inside its call activities (the shared steps) as at the top: their
user tasks, timers and messages are the case's, and ``data`` is the data of the
task completed last, in the process or in a called process still running.

Four eyes: ``complete_user_task(..., performer=...)`` records who completed each user
task, case-wide (in the top workflow's data, so it is stored with the state and
spans the call activities), and each READY task's ``not_by`` lists the performers
the diagram's ``notByPerformerOf`` keeps from it; completing it as one of them is
refused (``PerformerBarred``).

A cycle timer (``R3/PT1H``, on a non-interrupting boundary event) is pending once per
round: each round has its own timer id, so the projections keep a row per firing and a
round fired already is not fired again; its due times follow the engine's clock.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid5

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .clock import Clock, SystemClock
from .errors import EngineError, NotWaiting, PerformerBarred, ScriptError, StateError, TaskNotReady
from .sandbox import make_script_engine
from .serialization import STATE_FORMAT, dump_state, load_state
from .spec import STATUS_PROPERTY, ProcessModel, UserTaskInfo, is_human_task
from .spiff_internals import (
    cycle_interval,
    cycles_left,
    disarm_timer,
    event_subprocess_starts,
    failing_element,
    fire_cycle_timer,
    fire_waiting_timer,
    park_cycle_timer,
    park_timer,
    timer_due,
    waiting_event_tasks,
    wrapped_cause,
)


@dataclass(frozen=True)
class ReadyTask(UserTaskInfo):
    """A READY user task: what the diagram says of it, plus the id of this task in this case, and who may not
    take it (the performers of the tasks its ``notByPerformerOf`` rules name, in this case)."""

    task_id: str
    not_by: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PendingTimer:
    """A timer the case waits on, with the due time computed from the engine's clock."""

    task_id: str
    element_id: str
    due: datetime
    attached_to: str | None  # element id of the activity a boundary timer sits on
    interrupting: bool


@dataclass(frozen=True)
class FailedStep:
    """An engine task of the case that failed and waits in ERROR, with the error when this run stopped it."""

    task_id: str
    element_id: str
    name: str
    error: ScriptError | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Completion:
    """What completing a task changed."""

    task_id: str
    element_id: str
    changed: tuple[str, ...]


class CaseRuntime:
    """A SpiffWorkflow workflow bound to its process model, a sandboxed script engine and a clock."""

    def __init__(self, model: ProcessModel, workflow: BpmnWorkflow, clock: Clock):
        self.model = model
        self.workflow = workflow
        self.clock = clock
        # The engine tasks the last run_engine() left in ERROR (empty when it ran through).
        self.stopped: list[FailedStep] = []
        workflow.script_engine = make_script_engine(clock)

    # -- life cycle ---------------------------------------------------------

    @classmethod
    def start(
        cls, model: ProcessModel, data: dict[str, Any] | None = None, clock: Clock | None = None, *, run: bool = True
    ) -> CaseRuntime:
        """Start a new case of ``model`` with initial ``data`` and run it to its first wait (``run=False``:
        not yet; the caller runs ``run_engine()`` itself, to keep a failure of the first steps)."""
        clock = clock or SystemClock()
        workflow = BpmnWorkflow(model.spec, dict(model.subprocess_specs))
        runtime = cls(model, workflow, clock)
        if data:
            workflow.task_tree.data.update(copy.deepcopy(data))
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(copy.deepcopy(data))
        if run:
            runtime.run_engine()
        return runtime

    @classmethod
    def restore(
        cls, model: ProcessModel, state: str, state_format: str, reference: str, clock: Clock | None = None
    ) -> CaseRuntime:
        """Restore a stored case; StateError (naming ``reference``) if the state cannot be read."""
        workflow = load_state(state, state_format, model, reference)
        return cls(model, workflow, clock or SystemClock())

    def dump(self) -> tuple[str, str]:
        """Return ``(state_json, state_format)`` for storage; EngineError if the case data is not storable."""
        try:
            return dump_state(self.workflow), STATE_FORMAT
        except (TypeError, ValueError, RecursionError) as exc:
            raise EngineError(f"the case data cannot be stored: {exc}") from exc

    def run_engine(self) -> None:
        """Run every engine task that is ready, then record due times of new timers.

        A failing engine task is left in ERROR and the other branches run on as far as they go; then the
        first ScriptError is raised and ``stopped`` lists every task this run left in ERROR. What ran
        before stays done, so the runtime can be saved as it is (see ``retry_failed_steps``).
        """
        self.stopped = []
        first: ScriptError | None = None
        while True:
            started: list[Task] = []  # the last one is the task that was running when an error came
            try:
                self._guard(partial(self.workflow.do_engine_steps, will_complete_task=started.append))
                break
            except ScriptError as exc:
                first = first or exc
                failing = started[-1] if started else None
                if failing is None or not failing.has_state(TaskState.ERROR):
                    break  # not a task that failed (a timer expression...): running again fails the same way
                self.stopped.append(self._failed(failing, exc))  # ERROR is not READY: the next pass skips it
        self._arm_timers(keep_going=first is not None)
        if first is not None:
            raise first  # with ``stopped`` empty, nothing was left in ERROR: this runtime must not be saved

    def retry_failed_steps(self) -> list[str]:
        """Run every engine task waiting in ERROR again, from the data it started with; returns their element ids.

        Raises ScriptError (with ``stopped``) like ``run_engine`` if one fails again; EngineError if none waits.
        """
        failed = [task for task in self.workflow.get_tasks(state=TaskState.ERROR) if not self._is_user_task(task)]
        if not failed:
            raise EngineError("no step of this case waits after a failure")
        for task in failed:
            task.reset_branch(None)  # the data it was given (its parent's), not what a failed attempt left
        self.run_engine()
        return [task.task_spec.bpmn_id or task.task_spec.name for task in failed]

    def move_to(self, model: ProcessModel, reference: str) -> CaseRuntime:
        """This case's state on another version of its process (same process id and element ids).

        StateError names what the other version lacks; this runtime is left as it is.
        """
        if model.process_id != self.model.process_id:
            raise StateError(f"case {reference} runs {self.model.process_id}, not {model.process_id}")
        missing = self._missing_elements(model)
        if missing:
            raise StateError(
                f"case {reference} cannot move to that version of {model.process_id}: it has no " + ", ".join(missing)
            )
        state, state_format = self.dump()
        return CaseRuntime.restore(model, state, state_format, reference, self.clock)

    # -- reading --------------------------------------------------------------

    @property
    def completed(self) -> bool:
        """True once the process has reached its end."""
        return bool(self.workflow.completed)

    @property
    def data(self) -> dict[str, Any]:
        """The case data: the data of the task completed last, in the process or, while a call activity
        runs, inside the process it called (which was given the whole case data when it started)."""
        last = self._data_task()
        return dict(last.data) if last is not None else {}

    def ready_user_tasks(self) -> list[ReadyTask]:
        """Every READY task a person does: user tasks, and manual and plain tasks (confirmation tasks)."""
        tasks = []
        for task in self.workflow.get_tasks(state=TaskState.READY):
            if not is_human_task(task.task_spec):
                continue
            tasks.append(ReadyTask(task_id=str(task.id), not_by=self._barred(task), **vars(self._info(task))))
        return tasks

    def performers(self) -> dict[str, tuple[str, ...]]:
        """Who completed each user task of the case so far: element id -> performers, first first."""
        recorded = self.workflow.data.get(PERFORMERS_KEY) or {}
        return {element: tuple(people) for element, people in recorded.items()}

    def not_by(self, task_id: str) -> frozenset[str]:
        """The performers who may not take a READY user task (four eyes; empty when the diagram says nothing)."""
        return self._barred(self._ready_user_task(task_id))

    def task_data(self, task_id: str) -> dict[str, Any]:
        """The data a READY user task would show in its form."""
        return dict(self._ready_user_task(task_id).data)

    def pending_timers(self) -> list[PendingTimer]:
        """Every timer the case currently waits on."""
        timers = []
        for task in self._waiting_timer_tasks():
            due = timer_due(task)
            if due is None:
                continue
            spec = task.task_spec
            boundary = isinstance(spec, BoundaryEvent)
            attached = None
            if boundary and task.parent is not None:
                sibling = next((c for c in task.parent.children if not isinstance(c.task_spec, BoundaryEvent)), None)
                attached = sibling.task_spec.bpmn_id if sibling is not None else None
            timers.append(
                PendingTimer(
                    task_id=_timer_id(task),
                    element_id=spec.bpmn_id or spec.name,
                    due=due,
                    attached_to=attached,
                    interrupting=bool(getattr(spec, "cancel_activity", True)),
                )
            )
        return timers

    def waiting_messages(self) -> list[str]:
        """Names of the messages the case is waiting for."""
        names = []
        for task in waiting_event_tasks(self.workflow):
            for definition in _definitions(task.task_spec.event_definition):
                if isinstance(definition, MessageEventDefinition):
                    names.append(definition.name)
        names.extend(definition.name for definition in self._event_subprocess_messages())
        return sorted(set(names))

    def failed_steps(self) -> list[FailedStep]:
        """Every engine task of the case that failed and waits in ERROR for a retry."""
        return [
            self._failed(task)
            for task in self.workflow.get_tasks(state=TaskState.ERROR)
            if not self._is_user_task(task)
        ]

    def status(self) -> str | None:
        """The applicant-facing status key the diagram gives the case's current position."""
        if self.completed:
            ends = [
                t
                for t in self.workflow.get_tasks(state=TaskState.COMPLETED)
                if isinstance(t.task_spec, EndEvent) and _status_of(t) is not None
            ]
            ends.sort(key=lambda t: t.last_state_change)
            return _status_of(ends[-1]) if ends else None
        for task in self.workflow.get_tasks(state=TaskState.READY):
            if is_human_task(task.task_spec) and _status_of(task):
                return _status_of(task)
        for task in waiting_event_tasks(self.workflow):
            if not isinstance(task.task_spec, BoundaryEvent) and _status_of(task):
                return _status_of(task)
        return None

    # -- changing -------------------------------------------------------------

    def complete_user_task(
        self, task_id: str, data: dict[str, Any], *, run_on: bool = True, performer: str | None = None
    ) -> Completion:
        """Merge ``data`` into a READY user task, complete it and run the engine on (``run_on=False``: the
        caller runs ``run_engine()`` itself, so a failure after the task is told from one of the task).

        ``performer`` (who completes it) is recorded for the four-eyes rules; PerformerBarred if a rule keeps
        them from this task."""
        self.stopped = []
        task = self._ready_user_task(task_id)
        if performer is not None:
            if performer in self._barred(task):
                raise PerformerBarred(task.task_spec.bpmn_id, performer)
            self._record_performer(task.task_spec.bpmn_id, performer)
        before = copy.deepcopy(task.data)
        task.set_data(**copy.deepcopy(data))
        self._guard(task.run)
        changed = tuple(sorted(k for k in task.data if before.get(k, _MISSING) != task.data[k]))
        if run_on:
            self.run_engine()
        return Completion(task_id=task_id, element_id=task.task_spec.bpmn_id, changed=changed)

    def fire_timer(self, task_id: str) -> bool:
        """Fire a waiting timer; False (and no change) if the case no longer waits on it."""
        self.stopped = []
        task = next((t for t in self._waiting_timer_tasks() if _timer_id(t) == task_id), None)
        if task is None or timer_due(task) is None:
            return False
        definition = _timer_definition(task.task_spec.event_definition)
        if isinstance(definition, CycleTimerEventDefinition):
            self._fire_cycle(task)
        else:
            self._guard(lambda: fire_waiting_timer(task))
        self.run_engine()
        return True

    def _fire_cycle(self, task: Task) -> None:
        """One round of a cycle timer: its branch starts, and the next round is due one interval later."""
        due = timer_due(task)
        seconds = cycle_interval(task)
        left = self._guard(lambda: fire_cycle_timer(task))
        if left == 0:
            disarm_timer(task)  # Spiff completes the timer on its next look
        elif due is not None:
            park_cycle_timer(task, left, due + timedelta(seconds=seconds), seconds)

    def deliver_message(self, name: str, payload: dict[str, Any]) -> None:
        """Deliver a BPMN message; NotWaiting if no task of the case catches it."""
        self.stopped = []
        for task in waiting_event_tasks(self.workflow):
            for definition in _definitions(task.task_spec.event_definition):
                if isinstance(definition, MessageEventDefinition) and definition.name == name:
                    self._guard(lambda d=definition: self.workflow.send_event(BpmnEvent(d, copy.deepcopy(payload))))
                    self.run_engine()
                    return
        for definition in self._event_subprocess_messages():
            if definition.name == name:  # starts the event subprocess while the case goes on
                self._guard(lambda d=definition: self.workflow.send_event(BpmnEvent(d, copy.deepcopy(payload))))
                self.run_engine()
                return
        raise NotWaiting(f"the case is not waiting for the message {name!r}")

    def _event_subprocess_messages(self) -> list[MessageEventDefinition]:
        """The messages that start an event subprocess of the running case."""
        if self.completed:
            return []
        return [
            definition
            for start in event_subprocess_starts(self.workflow)
            for definition in _definitions(start.event_definition)
            if isinstance(definition, MessageEventDefinition)
        ]

    def correct_waiting_data(self, task_id: str, values: dict[str, Any]) -> None:
        """Correct values of the case data while a READY user task waits (a sponsor's address the applicant
        typed wrong): the waiting task's form data and the case data (``data``) carry them from now on.
        TaskNotReady if that task no longer waits."""
        task = self._ready_user_task(task_id)
        task.set_data(**copy.deepcopy(values))
        for last in {id(t): t for t in (self.workflow.last_task, self._data_task()) if t is not None}.values():
            if last is not task:
                last.set_data(**copy.deepcopy(values))

    # -- internals ------------------------------------------------------------

    def _barred(self, task: Task) -> frozenset[str]:
        """The performers the four-eyes rules of a task (its own, and its enclosing call activities') name."""
        rules = self.model.not_by_performer_of
        if not rules:
            return frozenset()
        named: list[str] = list(rules.get(task.task_spec.bpmn_id, ()))
        workflow = task.workflow
        while workflow is not self.workflow:  # up through the call activities that run this subprocess
            caller = self._find(str(workflow.parent_task_id))
            if caller is None:
                break
            named.extend(rules.get(caller.task_spec.bpmn_id, ()))
            workflow = caller.workflow
        done = self.performers()
        return frozenset(person for element in named for person in done.get(element, ()))

    def _record_performer(self, element_id: str, performer: str) -> None:
        recorded = dict(self.workflow.data.get(PERFORMERS_KEY) or {})
        people = list(recorded.get(element_id, []))
        if performer not in people:
            people.append(performer)
        recorded[element_id] = people
        self.workflow.data[PERFORMERS_KEY] = recorded

    def _data_task(self) -> Task | None:
        """The task whose data is the case data: the last completed task of the process, or of a called
        process still running (its start was given the call activity's data), whichever completed last."""
        running = [sub for sub in self.workflow.subprocesses.values() if not sub.completed]
        candidates = [w.last_task for w in (self.workflow, *running) if w.last_task is not None]
        return max(candidates, key=lambda t: (t.last_state_change, t.workflow.depth), default=None)

    def _info(self, task: Task) -> UserTaskInfo:
        element_id = task.task_spec.bpmn_id
        info = self.model.user_tasks.get(element_id)
        if info is None:  # a user task the model did not index (should not happen)
            raise EngineError(f"user task {element_id} is not part of process {self.model.process_id}")
        return info

    def _find(self, task_id: str) -> Task | None:
        try:
            return self.workflow.get_task_from_id(UUID(str(task_id)))
        except (TaskNotFoundException, ValueError):
            return None

    def _ready_user_task(self, task_id: str) -> Task:
        task = self._find(task_id)
        if task is None:
            raise TaskNotReady(task_id, None)
        if not is_human_task(task.task_spec):
            raise TaskNotReady(task_id, "not a user task")
        if not task.has_state(TaskState.READY):
            raise TaskNotReady(task_id, TaskState.get_name(task.state))
        return task

    def _waiting_timer_tasks(self) -> list[Task]:
        return [
            t
            for t in waiting_event_tasks(self.workflow)
            if t.has_state(TaskState.WAITING) and _timer_definition(t.task_spec.event_definition) is not None
        ]

    def _arm_timers(self, keep_going: bool = False) -> None:
        """Record the clock-based due time of each new timer and park SpiffWorkflow's own check.

        ``keep_going``: the run already failed; a timer that cannot be armed now is armed by the next run.
        """
        for task in self._waiting_timer_tasks():
            if timer_due(task) is not None:
                continue
            definition = _timer_definition(task.task_spec.event_definition)
            try:
                if isinstance(definition, CycleTimerEventDefinition):
                    if cycles_left(task) != 0:
                        cycles, first, interval = self._cycle(task, definition)
                        park_cycle_timer(task, cycles, first, interval.total_seconds())
                else:
                    park_timer(task, self._due_time(task, definition))
            except ScriptError:
                if not keep_going:
                    raise

    def _failed(self, task: Task, error: ScriptError | None = None) -> FailedStep:
        spec = task.task_spec
        element_id = spec.bpmn_id or spec.name
        name = getattr(spec, "bpmn_name", None) or self.model.element_names.get(element_id, element_id)
        return FailedStep(task_id=str(task.id), element_id=element_id, name=name, error=error)

    @staticmethod
    def _is_user_task(task: Task) -> bool:
        return is_human_task(task.task_spec)

    def _missing_elements(self, model: ProcessModel) -> list[str]:
        """Elements this case has tasks of (or subprocesses it runs) that ``model`` does not define."""
        missing: set[str] = set()
        for workflow in (self.workflow, *self.workflow.subprocesses.values()):
            if workflow is self.workflow:
                target = model.spec
            else:
                target = model.subprocess_specs.get(workflow.spec.name)
                if target is None:
                    missing.add(f"subprocess {workflow.spec.name}")
                    continue
            for task in workflow.tasks.values():
                if task.task_spec.name not in target.task_specs:
                    missing.add(task.task_spec.bpmn_id or task.task_spec.name)
        return sorted(missing)

    def _due_time(self, task: Task, definition: Any) -> datetime:
        expression = self._guard(lambda: self.workflow.script_engine.evaluate(task, definition.expression))
        try:
            if isinstance(definition, DurationTimerEventDefinition):
                parsed = TimerEventDefinition.parse_iso_duration(str(expression))
                now = self.clock.now()
                return now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
            if isinstance(definition, TimeDateEventDefinition):
                return TimerEventDefinition.get_datetime(str(expression)).astimezone(UTC)
        except Exception as exc:
            raise ScriptError(
                f"the timer expression gives {expression!r}, not a duration or date: {exc}", task.task_spec.bpmn_id
            ) from exc
        raise ScriptError("cycle timers are not supported", task.task_spec.bpmn_id)

    def _cycle(self, task: Task, definition: Any) -> tuple[int, datetime, timedelta]:
        """A cycle timer's rounds (-1: for ever), first due time (on the engine's clock) and interval."""
        expression = self._guard(lambda: self.workflow.script_engine.evaluate(task, definition.expression))
        try:
            cycles, start, interval = TimerEventDefinition.parse_iso_recurring_interval(str(expression))
            parts = str(expression).upper().replace("--", "/").strip("R").split("/")
            if len(parts) == 2 and parts[1].startswith("P"):  # "R3/PT1H": the first round one interval from now
                start = self.clock.now() + interval
        except Exception as exc:
            raise ScriptError(
                f"the timer expression gives {expression!r}, not a repetition such as R3/PT1H: {exc}",
                task.task_spec.bpmn_id,
            ) from exc
        return cycles, start.astimezone(UTC), interval

    def _guard(self, action: Any) -> Any:
        """Run an engine action, turning SpiffWorkflow's script failures into ScriptError."""
        try:
            return action()
        except EngineError:
            raise
        except SpiffWorkflowException as exc:
            # The sandbox's ScriptError travels as the cause or the implicit context of Spiff's exception.
            cause = wrapped_cause(exc)
            if isinstance(cause, ScriptError):
                raise cause.name_element(failing_element(exc)) from exc
            if isinstance(cause, EngineError):
                raise cause from exc
            raise ScriptError(str(exc).splitlines()[0], failing_element(exc)) from exc


# Where the performers of the case's user tasks are kept: the top workflow's data (not any task's, so no
# script or form sees them), stored with the state; element id -> performers, in the order they acted.
PERFORMERS_KEY = "kitas_performers"


class _Missing:
    pass


_MISSING = _Missing()


def _definitions(definition: Any) -> list[Any]:
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def _timer_id(task: Task) -> str:
    """The id a pending timer is known by: its task's, or for a cycle timer one per round (the projections keep
    one row per firing, and a round already fired is not fired again)."""
    left = (
        cycles_left(task)
        if isinstance(_timer_definition(task.task_spec.event_definition), CycleTimerEventDefinition)
        else None
    )
    return str(task.id) if left is None else str(uuid5(task.id, f"cycle {left} {timer_due(task)}"))


def _timer_definition(definition: Any) -> Any:
    for item in _definitions(definition):
        if isinstance(item, TimerEventDefinition):
            return item
    return None


def _status_of(task: Task) -> str | None:
    extensions = getattr(task.task_spec, "extensions", None) or {}
    return extensions.get("properties", {}).get(STATUS_PROPERTY)
