"""The data of a field-level correction round, as shared_document_review.bpmn carries it, in all four types'
diagrams, the state stored and restored between every step: the verifier's ticked rows become the request
the applicant's step opens, her changes become the case data the rest of the process reads, and the next
verification starts without the previous decision but with the round in ``correction_rounds``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine import ManualClock
from tests.engine import test_family_paths, test_investor_paths, test_student_paths, test_worker_paths
from tests.engine.bundles import parse_bundle
from tests.engine.driver import Case

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def _worker() -> Case:
    case = test_worker_paths.Case(test_worker_paths.worker_model(), ManualClock())
    case.until_verification()
    return case


def _family() -> Case:
    case = test_family_paths.Case(parse_bundle(BPMN / "kitas_family.bpmn"), ManualClock())
    case.until_verification()
    return case


def _investor() -> Case:
    case = test_investor_paths.new_case(parse_bundle(BPMN / "kitas_investor.bpmn"))
    test_investor_paths.until_review(case)
    return case


def _student() -> Case:
    case = test_student_paths.new_case(parse_bundle(BPMN / "kitas_student.bpmn"))
    test_student_paths.until_review(case)
    return case


TYPES: dict[str, Callable[[], Case]] = {
    "worker": _worker,
    "family": _family,
    "investor": _investor,
    "student": _student,
}

TICKED = [
    {"item": "field:full_name", "change": True, "reason": "Write the name as in the passport."},
    {"item": "field:phone", "change": False},
    {"item": "document:passport_scan", "change": True, "reason": "The scan is blurred."},
]


def _verify_task_data(case: Case) -> dict[str, object]:
    runtime = case.runtime
    (task,) = [t for t in runtime.ready_user_tasks() if t.element_id == "verify_documents"]
    return runtime.task_data(task.task_id)


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_a_round_carries_the_request_the_changes_and_an_empty_next_decision(kind: str) -> None:
    case = TYPES[kind]()
    first = _verify_task_data(case)
    assert first["correction_items"] == [] and first["correction_rounds"] == []
    old_name = first["full_name"]
    case.complete(
        "verify_documents",
        verification_decision="corrections",
        verification_reason="Two things to correct.",
        correction_items=TICKED,
        document_checks=[{"document": "passport_scan", "legible": False, "matches_form": True, "dates_valid": True}],
    )
    assert case.ready() == ["submit_corrections"] and case.status() == "correction_requested"
    asked = case.data()["correction_request"]
    assert asked == [
        {"item": "field:full_name", "reason": "Write the name as in the passport."},
        {"item": "document:passport_scan", "reason": "The scan is blurred."},
    ]
    changes = [
        {"item": "field:full_name", "old": old_name, "new": "Corrected Name"},
        {"item": "document:passport_scan", "old": "doc-1", "new": "doc-9"},
    ]
    case.complete("submit_corrections", full_name="Corrected Name", passport_scan="doc-9", correction_changes=changes)
    assert case.ready() == ["verify_documents"]
    second = _verify_task_data(case)
    # The next verification opens empty: no decision, no reason, no ticks, no checklist of the last round.
    assert "verification_decision" not in second and "verification_reason" not in second
    assert second["correction_items"] == [] and second["document_checks"] == []
    assert second["interview_required"] is False
    assert second["correction_rounds"] == [
        {
            "reason": "Two things to correct.",
            "items": asked,
            "changes": changes,
            "note": case.form_data("submit_corrections")["correction_note"],
        }
    ]
    assert second["full_name"] == "Corrected Name" and second["passport_scan"] == "doc-9"
    case.complete("verify_documents")
    # Back in the type's own process, the rest of the case reads the corrected answers.
    assert case.data()["full_name"] == "Corrected Name" and case.data()["passport_scan"] == "doc-9"
    assert len(case.data()["correction_rounds"]) == 1


def test_two_rounds_are_kept_in_order() -> None:
    case = _worker()
    for number in (1, 2):
        case.complete(
            "verify_documents",
            verification_decision="corrections",
            verification_reason=f"Round {number}",
            correction_items=[{"item": "field:full_name", "change": True, "reason": f"Name, round {number}"}],
        )
        case.complete("submit_corrections", full_name=f"Name {number}", correction_changes=[])
    rounds = _verify_task_data(case)["correction_rounds"]
    assert [r["reason"] for r in rounds] == ["Round 1", "Round 2"]  # type: ignore[index]
    assert [r["items"][0]["reason"] for r in rounds] == ["Name, round 1", "Name, round 2"]  # type: ignore[index]
