"""The investor and student diagrams as files: valid BPMN, diagram interchange for every shape and edge (so
bpmn.io draws them as they are), Indonesian names for every named element, ids their own in the bundle."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.engine.bundles import SHARED_CALLS

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
}
DIAGRAMS = ("kitas_investor", "kitas_student")


def _process(name: str) -> ET.Element:
    process = ET.parse(BPMN / f"{name}.bpmn").getroot().find("bpmn:process", NS)
    assert process is not None
    return process


def _ids(root: ET.Element) -> set[str]:
    return {e.get("id") or "" for e in root.iter() if e.get("id")} - {""}


@pytest.mark.parametrize("name", DIAGRAMS)
def test_every_shape_and_edge_is_drawn(name: str) -> None:
    root = ET.parse(BPMN / f"{name}.bpmn").getroot()
    process = root.find("bpmn:process", NS)
    assert process is not None and process.get("isExecutable") == "true"
    nodes = {e.get("id") for e in process if e.get("id") and e.tag.split("}")[1] not in ("laneSet", "sequenceFlow")}
    flows = {e.get("id") for e in process.findall("bpmn:sequenceFlow", NS)}
    lanes = {e.get("id") for e in process.iter(f"{{{NS['bpmn']}}}lane")}
    shapes = {e.get("bpmnElement") for e in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get("bpmnElement") for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    assert nodes | lanes <= shapes and flows == edges
    laned = {ref.text for ref in process.iter(f"{{{NS['bpmn']}}}flowNodeRef")}
    assert nodes == laned  # every element in exactly the lane it is drawn in
    for edge in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge"):
        assert len(edge.findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2, edge.get("id")


@pytest.mark.parametrize("name", DIAGRAMS)
def test_the_shared_steps_are_called_with_gateways_on_their_outcomes(name: str) -> None:
    process = _process(name)
    called = {e.get("id"): e.get("calledElement") for e in process.findall("bpmn:callActivity", NS)}
    assert called == SHARED_CALLS
    conditions = " ".join(e.text or "" for e in process.iter(f"{{{NS['bpmn']}}}conditionExpression"))
    for outcome in (
        'payment_outcome == "paid"',
        'payment_outcome == "expired"',
        'review_outcome == "approved"',
        'review_outcome == "rejected"',
        'review_outcome == "expired"',
        'approval_outcome == "approved"',
        'approval_outcome == "rejected"',
    ):
        assert outcome in conditions, outcome


@pytest.mark.parametrize("name", DIAGRAMS)
def test_every_named_element_has_its_indonesian_name(name: str) -> None:
    process = _process(name)
    skip = {"process", "lane", "sequenceFlow"}
    named = {
        e.get("id")
        for e in process.iter()
        if e.get("name") and e.tag.startswith(f"{{{NS['bpmn']}}}") and e.tag.split("}")[1] not in skip
    }
    texts = json.loads((BPMN / f"{name}.id.json").read_text(encoding="utf-8"))
    assert set(texts) == {f"/{element}" for element in named}
    assert all(text.strip() for text in texts.values())


@pytest.mark.parametrize("name", DIAGRAMS)
def test_the_ids_are_unique_in_the_bundle(name: str) -> None:
    """The shared steps keep the worker's ids; a type's own diagram reuses none of them (nor the worker's
    sponsor step), so the catalog, reminders and tests naming an id mean one element."""
    own = _ids(_process(name))
    shared = set().union(*(_ids(ET.parse(path).getroot()) for path in sorted((BPMN / "shared").glob("*.bpmn"))))
    assert own & shared == set()
    assert own.isdisjoint({"sponsor_confirmation", "sponsor_deadline", "applicant_data", "document_checklist"})
