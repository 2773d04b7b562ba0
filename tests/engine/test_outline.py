"""A diagram's steps in order, walking into called processes (as the shared steps will be)."""

from __future__ import annotations

from pathlib import Path

from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine import ProcessModel
from engine.outline import outline
from tests.engine.bundles import parse_bundle
from tests.worker_data import WORKER_STEPS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def _model_with_call() -> ProcessModel:
    """The caller of tests/data with the process it calls, parsed together (one executable process a file)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(DATA / "outline_call.bpmn"))
    parser.add_bpmn_file(str(DATA / "outline_review.bpmn"))
    spec = parser.get_spec("outline_caller")
    return ProcessModel("outline_caller", "Outline caller", spec, parser.get_subprocess_specs("outline_caller"), {}, ())


def test_called_steps_stand_where_the_call_activity_is() -> None:
    steps = outline(_model_with_call())
    assert [s.element_id for s in steps] == ["fill_in", "review", "correct", "book"]
    assert [s.process_id for s in steps] == ["outline_caller", "outline_review", "outline_review", "outline_caller"]
    assert [s.called_by for s in steps] == [None, "call_review", "call_review", None]
    assert [s.lane for s in steps] == ["Applicant", "Verifier", "Applicant", "Applicant"]


def test_a_step_some_cases_skip_is_optional() -> None:
    steps = {s.element_id: s for s in outline(_model_with_call())}
    assert steps["correct"].optional  # only when the reviewer asks for corrections
    assert not steps["review"].optional and not steps["fill_in"].optional
    assert not steps["book"].optional  # after the review, every case that goes on books


def test_the_worker_diagram_in_order() -> None:
    steps = outline(parse_bundle(ROOT / "bpmn" / "kitas_worker.bpmn"))
    assert [s.element_id for s in steps] == WORKER_STEPS
    assert {s.element_id for s in steps if s.optional} == {"submit_corrections", "conduct_interview"}
    assert {s.element_id for s in steps if s.kind == "wait"} == {"await_payment"}
    assert steps[3].form_schema == "worker-document-checklist.schema.json"
    # Deadlines and escalations are not steps: nothing after a boundary event is listed.
    assert all(not s.element_id.startswith("escalate") for s in steps)
