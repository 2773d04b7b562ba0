"""A diagram's steps in the order a case meets them, walking into the processes its call activities call.

The walk starts at the process's start event and follows the sequence flows, not the boundary
events (a deadline or an escalation is not a step). Steps come in topological order of the flows
(a loop back, such as corrections returning to verification, is not followed twice); among the
branches of a gateway, in the order the diagram lists its outgoing flows. A call activity is
replaced by the steps of the process it calls (``ProcessModel.subprocess_specs``), so shared steps
appear where the type's diagram calls them. A step is ``optional`` when a case can reach an end of
its process without it (an interview only some cases need, corrections only when asked), or when the
call activity it belongs to is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent, ReceiveTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from .spec import FORM_SCHEMA_PROPERTY, FORM_UI_PROPERTY, ProcessModel

# Deeper call chains than this are a diagram error (a process calling itself), not a real journey.
MAX_CALL_DEPTH = 8


@dataclass(frozen=True)
class OutlineStep:
    """One step of a journey: a user task (a form someone fills in) or a wait for a message (a payment)."""

    element_id: str
    name: str
    lane: str
    kind: str  # "user" | "wait"
    process_id: str  # the process the step belongs to (a called one for a shared step)
    optional: bool
    form_schema: str | None = None
    form_ui_schema: str | None = None
    called_by: str | None = None  # the call activity (of the type's own diagram) the step comes through


def outline(model: ProcessModel) -> tuple[OutlineStep, ...]:
    """Every user task and message wait of the model, in the order a case meets them, called processes included."""
    return tuple(_walk(model.spec, model.subprocess_specs, model.process_id, None, False, 0))


def _walk(
    spec: Any,
    called: Mapping[str, Any],
    process_id: str,
    called_by: str | None,
    optional: bool,
    depth: int,
) -> Iterable[OutlineStep]:
    if depth > MAX_CALL_DEPTH:
        raise ValueError(f"call activities nest deeper than {MAX_CALL_DEPTH} levels at {process_id}")
    order = _flow_order(spec.start)
    position = {id(task_spec): index for index, task_spec in enumerate(order)}
    for task_spec in order:
        skippable = optional or _skippable(task_spec, spec.start, position)
        if isinstance(task_spec, CallActivity):
            sub = called.get(task_spec.spec)
            if sub is not None:
                yield from _walk(sub, called, task_spec.spec, called_by or task_spec.bpmn_id, skippable, depth + 1)
            continue
        kind = "user" if isinstance(task_spec, UserTask) else "wait" if isinstance(task_spec, ReceiveTask) else None
        if kind is None:
            continue
        properties = dict((getattr(task_spec, "extensions", None) or {}).get("properties", {}))
        yield OutlineStep(
            element_id=task_spec.bpmn_id,
            name=task_spec.bpmn_name or task_spec.bpmn_id,
            lane=task_spec.lane or "",
            kind=kind,
            process_id=process_id,
            optional=skippable,
            form_schema=properties.get(FORM_SCHEMA_PROPERTY) or None,
            form_ui_schema=properties.get(FORM_UI_PROPERTY) or None,
            called_by=called_by,
        )


def _next(task_spec: Any) -> list[Any]:
    """The specs a case goes on to from ``task_spec`` by sequence flow (a boundary event's path is not one)."""
    return [output for output in task_spec.outputs if not isinstance(output, BoundaryEvent)]


def _flow_order(start: Any) -> list[Any]:
    """The specs reachable from ``start``, each after every spec that leads to it (loops back ignored)."""
    finished: list[Any] = []
    seen: set[int] = set()
    stack: list[tuple[Any, list[Any]]] = [(start, _next(start))]
    seen.add(id(start))
    while stack:
        task_spec, pending = stack[-1]
        if pending:
            following = pending.pop()
            if id(following) not in seen:
                seen.add(id(following))
                stack.append((following, _next(following)))
            continue
        stack.pop()
        finished.append(task_spec)
    finished.reverse()
    return finished


def _skippable(task_spec: Any, start: Any, position: Mapping[int, int]) -> bool:
    """True when some end event reachable from ``task_spec`` can also be reached from the start without it.

    The ends after a step are those it leads to forwards (a loop back, such as a supervisor sending the
    case back to verification, does not make the approval optional); a step that only leads back (the
    applicant's corrections) is judged by the ends its loop goes on to."""
    after = {id(s) for s in _reachable(task_spec, None, position) if isinstance(s, EndEvent)}
    if not after:
        after = {id(s) for s in _reachable(task_spec, None) if isinstance(s, EndEvent)}
    without = {id(s) for s in _reachable(start, task_spec) if isinstance(s, EndEvent)}
    return bool(after & without)


def _reachable(origin: Any, avoiding: Any | None, forwards: Mapping[int, int] | None = None) -> list[Any]:
    """The specs reachable from ``origin`` without passing ``avoiding``; with ``forwards`` (positions in flow
    order), only along flows to a later position."""
    found: list[Any] = []
    seen = {id(origin)}
    todo = [origin]
    while todo:
        current = todo.pop()
        found.append(current)
        for following in _next(current):
            if following is avoiding or id(following) in seen:
                continue
            if forwards is not None and forwards.get(id(following), 0) <= forwards.get(id(current), 0):
                continue
            seen.add(id(following))
            todo.append(following)
    return found
