"""Decision tables on their own: read a table's rows for display, and evaluate it for given inputs.

Both go through a process of one business rule task calling the decision, parsed once per table
content. Reading takes the table as SpiffWorkflow parsed it for that task (``spiff_internals.
decision_table``, as deployment's checks do); evaluating runs the task on the sandbox (``CaseRuntime``),
exactly as a case's ``compute_fee`` runs. So a page that shows a fee and the case that later charges it
cannot disagree about a cell's meaning (``"worker"`` compared with the input, an empty cell matching
anything, ``12`` compared equal, ``?`` standing for the input).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

from .clock import Clock
from .runtime import CaseRuntime
from .spec import ProcessModel, parse_process
from .spiff_internals import decision_table


@dataclass(frozen=True)
class DecisionInput:
    """One input column: its id, the label the analyst gave it and the expression it reads."""

    id: str
    label: str
    expression: str


@dataclass(frozen=True)
class DecisionOutput:
    """One output column: the variable it sets (``fee_amount``) and its label."""

    name: str
    label: str


@dataclass(frozen=True)
class DecisionRow:
    """One rule of a table as written: an input cell per input column (``""`` for "any") and an output per output."""

    id: str
    number: int
    description: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class DecisionTable:
    """A decision table as written in its DMN file, for display."""

    decision_id: str
    name: str
    hit_policy: str
    inputs: tuple[DecisionInput, ...]
    outputs: tuple[DecisionOutput, ...]
    rows: tuple[DecisionRow, ...]


def decision_ids(dmn: str | bytes) -> tuple[str, ...]:
    """The ids of the decisions a DMN file defines (none when it does not parse)."""
    try:
        root = etree.fromstring(_as_bytes(dmn))
    except etree.XMLSyntaxError:
        return ()
    return tuple(str(node.get("id")) for node in root.iter() if etree.QName(node).localname == "decision")


def read_decision(dmn: str | bytes, decision_id: str) -> DecisionTable:
    """The rows of decision ``decision_id`` of a DMN file; DiagramError naming the problem otherwise."""
    model, _outputs = _decision_model(_as_bytes(dmn), decision_id)
    return _table_of(model, decision_id)


def _table_of(model: ProcessModel, decision_id: str) -> DecisionTable:
    table = decision_table(model.spec.task_specs[_TASK_ID])
    inputs = tuple(
        DecisionInput(column.id, column.label or column.id, column.expression or "") for column in table.inputs
    )
    outputs = tuple(
        DecisionOutput(column.name or column.label or column.id, column.label or "") for column in table.outputs
    )
    rows = tuple(
        DecisionRow(
            id=rule.id,
            number=rule.row_number,
            description=rule.description or "",
            inputs=tuple(_cell(entry.lhs) for entry in rule.inputEntries),
            outputs=tuple((getattr(entry, "text", "") or "").strip() for entry in rule.outputEntries),
        )
        for rule in table.rules
    )
    return DecisionTable(decision_id, table.name or decision_id, str(table.hit_policy), inputs, outputs, rows)


def _cell(lhs: list[str | None]) -> str:
    return " ".join(text.strip() for text in lhs if text and text.strip())


# -- evaluation ----------------------------------------------------------------

_MODELS: dict[str, tuple[ProcessModel, frozenset[str]]] = {}
_MODELS_LOCK = Lock()
_PROCESS_ID = "kitas_decision"
_TASK_ID = "decide"


def decide(dmn: str | bytes, decision_id: str, inputs: Mapping[str, Any], clock: Clock | None = None) -> dict[str, Any]:
    """The outputs of decision ``decision_id`` for ``inputs`` (``{"fee_amount": 1700000}``), empty when no rule
    matches; evaluated by a business rule task on the sandbox, like a case's. ScriptError if a cell fails,
    DiagramError if the table does not parse or the sandbox refuses one of its expressions."""
    model, outputs = _decision_model(_as_bytes(dmn), decision_id)
    runtime = CaseRuntime.start(model, dict(inputs), clock)
    return {name: value for name, value in runtime.data.items() if name in outputs}


def _decision_model(dmn: bytes, decision_id: str) -> tuple[ProcessModel, frozenset[str]]:
    """The one-task process of a decision and the names of its outputs, parsed once per table content."""
    key = hashlib.sha256(dmn + b"\0" + decision_id.encode()).hexdigest()
    found = _MODELS.get(key)
    if found is None:
        with _MODELS_LOCK:
            found = _MODELS.get(key)
            if found is None:
                model = parse_process(_one_task_process(decision_id), {"decision.dmn": dmn}, validate_schema=False)
                outputs = frozenset(column.name for column in _table_of(model, decision_id).outputs)
                found = _MODELS[key] = (model, outputs)
    return found


def _one_task_process(decision_id: str) -> str:
    """A process of one business rule task calling the decision: how a case's compute_fee runs it."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="decision_definitions"
    targetNamespace="https://kitas.example/decision">
  <bpmn:process id="{_PROCESS_ID}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_decide</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_decide" sourceRef="start" targetRef="{_TASK_ID}" />
    <bpmn:businessRuleTask id="{_TASK_ID}" name="Decide">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>{_escaped(decision_id)}</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>to_decide</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="{_TASK_ID}" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def _escaped(text: str) -> str:
    return quoteattr(text)[1:-1]


def _as_bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else text
