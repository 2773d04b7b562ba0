"""Case state <-> JSON, without the spec, and explicit upgrades of older state formats.

SpiffWorkflow's serializer copies the whole diagram into every case. The spec
is stored once per definition version instead and re-attached on restore, so a
case row holds only its task tree and data. The format name is stored next to
the state so that old states can be upgraded explicitly: ``UPGRADES`` maps a
format to the next one and the step that converts a state dict. Nothing falls
back to SpiffWorkflow's own migrations, which expect the spec inside the state
(and whose 1.4 -> 1.5 step fails on any state with subprocesses).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .errors import StateError
from .spec import ProcessModel
from .spiff_internals import decode_state, encode_state, make_state_serializer

STATE_FORMAT = f"kitas-1+spiff-{SPIFF_SERIALIZER_VERSION}"

Upgrade = Callable[[dict[str, Any], ProcessModel], dict[str, Any]]

_SERIALIZER = make_state_serializer(SPIFF_CONFIG)


def _workflows(dct: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """The top workflow and each subprocess of a state dict, with the subprocess's spec name."""
    subprocesses = dct.get("subprocesses")
    if not isinstance(dct.get("tasks"), dict) or not isinstance(subprocesses, dict):
        raise StateError("it holds no task tree")
    return [(None, dct), *((sub.get("spec"), sub) for sub in subprocesses.values())]


def _from_spiff_1_4(dct: dict[str, Any], model: ProcessModel) -> dict[str, Any]:
    """Serializer 1.4 (SpiffWorkflow 3.1) -> 1.5 (3.2), for spec-less states.

    What changed in 1.5: an event-based gateway now waits for its children's
    events itself, and its children carry no event. That is a change of the
    spec, which a spec-less state takes from the current parser; a case waiting
    *at* such a gateway, though, has waiting children whose events 1.5 no longer
    knows, so it is refused rather than silently left stuck. Task data is
    stored whole in 1.4; 1.5 stores a delta against the parent and reads a
    task with an empty delta from its whole data, which is what we mark.
    """
    for spec_name, workflow in _workflows(dct):
        spec = model.spec if spec_name is None else model.subprocess_specs.get(spec_name)
        if spec is None:
            raise StateError(f"it runs a subprocess {spec_name!r} that process {model.process_id} no longer has")
        gateway_children = {
            output.name
            for task_spec in spec.task_specs.values()
            if isinstance(task_spec, EventBasedGateway)
            for output in task_spec.outputs
        }
        for task in workflow["tasks"].values():
            name = task.get("task_spec")
            if name not in spec.task_specs:
                raise StateError(f"it has a task of {name!r}, which process {model.process_id} no longer has")
            waiting = task.get("state") == TaskState.WAITING
            if waiting and name in gateway_children and isinstance(spec.task_specs[name], CatchingEvent):
                raise StateError(
                    f"it waits at the event-based gateway before {name!r}, which format 1.5 models differently; "
                    "finish the case on the old version or restart it"
                )
            task.setdefault("delta", {})
    return dct


UPGRADES: dict[str, tuple[str, Upgrade]] = {
    "kitas-1+spiff-1.4": ("kitas-1+spiff-1.5", _from_spiff_1_4),
}


def dump_state(workflow: BpmnWorkflow) -> str:
    """Return the JSON state of a workflow (no spec) in the current STATE_FORMAT."""
    return encode_state(_SERIALIZER, workflow)


def upgrade_state(dct: dict[str, Any], state_format: str, model: ProcessModel, reference: str) -> dict[str, Any]:
    """Bring a state dict of ``state_format`` to STATE_FORMAT, step by step; StateError names the case."""
    while state_format != STATE_FORMAT:
        if state_format not in UPGRADES:
            raise StateError(
                f"the stored state of case {reference} has format {state_format!r}, "
                f"which this version cannot read (it reads {STATE_FORMAT!r})"
            )
        next_format, upgrade = UPGRADES[state_format]
        try:
            dct = upgrade(dct, model)
        except StateError as exc:
            raise StateError(
                f"the stored state of case {reference} cannot be upgraded from {state_format}: {exc}"
            ) from exc
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise StateError(
                f"the stored state of case {reference} is corrupt (upgrading from {state_format}): "
                f"{exc.__class__.__name__}: {exc}"
            ) from exc
        state_format = next_format
    return dct


def load_state(state: str, state_format: str, model: ProcessModel, reference: str) -> BpmnWorkflow:
    """Restore a workflow from its stored state, upgrading old formats; StateError names the case."""
    try:
        dct = json.loads(state)
    except (TypeError, ValueError) as exc:
        raise StateError(f"the stored state of case {reference} is corrupt: {exc}") from exc
    if not isinstance(dct, dict):
        raise StateError(f"the stored state of case {reference} is corrupt: not a JSON object")
    dct = upgrade_state(dct, state_format, model, reference)
    try:
        workflow = decode_state(_SERIALIZER, dct, model)
    except Exception as exc:  # the serializer raises many kinds of errors on damaged input
        raise StateError(f"the stored state of case {reference} is corrupt: {exc.__class__.__name__}: {exc}") from exc
    if workflow.task_tree is None:
        raise StateError(f"the stored state of case {reference} is corrupt: it holds no workflow")
    return workflow


def state_without_data(state: str) -> str:
    """A stored state with every value a case was given removed: the task tree, its states and its
    events stay (it restores as before), but the data of each task and workflow, the pending events'
    payloads and the correlations are empty. Used to keep a closed case anonymised (personal-data erasure).
    """
    dct = json.loads(state)
    if not isinstance(dct, dict):
        raise StateError("the state is not a JSON object")
    for _, workflow in _workflows(dct):
        workflow["data"] = {}
        if "correlations" in workflow:
            workflow["correlations"] = {}
        if isinstance(workflow.get("bpmn_events"), list):
            workflow["bpmn_events"] = []
        for task in workflow["tasks"].values():
            task["data"] = {}
            if isinstance(task.get("delta"), dict):
                task["delta"] = {"updates": {}, "deletions": []}
    return json.dumps(dct, separators=(",", ":"))
