"""Case state <-> JSON, without the spec.

SpiffWorkflow's serializer copies the whole diagram into every case. The spec
is stored once per definition version instead and re-attached on restore, so a
case row holds only its task tree and data. The format name is stored next to
the state so that old states can be upgraded explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .errors import StateError
from .spec import ProcessModel

STATE_FORMAT = f"kitas-1+spiff-{SPIFF_SERIALIZER_VERSION}"

# Explicit upgrades: old format -> function turning an old state dict into the next format.
UPGRADES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {}


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a top-level workflow without its process and subprocess specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], model: ProcessModel | None = None) -> BpmnWorkflow:
        if model is None:
            raise StateError("a case state can only be restored together with its process model")
        dct["spec"] = None
        dct["subprocess_specs"] = {}
        workflow = self.target_class(model.spec, dict(model.subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _make_serializer()


def dump_state(workflow: BpmnWorkflow) -> str:
    """Return the JSON state of a workflow (no spec) in the current STATE_FORMAT."""
    registry = _SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = _SERIALIZER.to_dict(workflow)
        return json.dumps(dct, cls=_SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_state(state: str, state_format: str, model: ProcessModel, reference: str) -> BpmnWorkflow:
    """Restore a workflow from its stored state, upgrading old formats; StateError names the case."""
    try:
        dct = json.loads(state)
    except (TypeError, ValueError) as exc:
        raise StateError(f"the stored state of case {reference} is corrupt: {exc}") from exc
    if not isinstance(dct, dict):
        raise StateError(f"the stored state of case {reference} is corrupt: not a JSON object")
    while state_format != STATE_FORMAT:
        if state_format not in UPGRADES:
            raise StateError(
                f"the stored state of case {reference} has format {state_format!r}, "
                f"which this version cannot read (it reads {STATE_FORMAT!r})"
            )
        state_format, upgrade = UPGRADES[state_format]
        dct = upgrade(dct)
    try:
        workflow = _SERIALIZER.registry.restore(dct, model=model)
    except StateError:
        raise
    except Exception as exc:  # the serializer raises many kinds of errors on damaged input
        raise StateError(f"the stored state of case {reference} is corrupt: {exc.__class__.__name__}: {exc}") from exc
    if not isinstance(workflow, BpmnWorkflow) or workflow.task_tree is None:
        raise StateError(f"the stored state of case {reference} is corrupt: it holds no workflow")
    return workflow
