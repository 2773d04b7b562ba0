"""The studio's decision table test panel: the amount a case on the draft's table would be charged."""

from __future__ import annotations

from typing import Any

import pytest

from kitas.models import StudioDraft
from kitas.services import fees
from kitas.services.errors import Conflict, NotFound
from kitas.services.studio import drafts, fee_testing
from kitas.services.studio.fee_testing import DecisionRefused
from tests.conftest import deploy_worker

WORKER_12 = {"kitas_type": "worker", "index_code": "E23", "duration_months": "12"}


@pytest.fixture()
def draft(ctx: Any, users: dict[str, Any]) -> StudioDraft:
    deploy_worker()
    return drafts.open_draft("kitas_worker", users["analyst"])


def test_the_inputs_are_read_from_the_table(draft: StudioDraft) -> None:
    editor = fee_testing.open_decision(draft.id, "fees.dmn")
    assert editor.decision_id == "kitas_fee" and editor.problem is None
    assert [(i.name, i.type) for i in editor.inputs] == [
        ("kitas_type", "string"),
        ("index_code", "string"),
        ("duration_months", "integer"),
    ]
    assert "worker" in editor.inputs[0].suggestions and "12" in editor.inputs[2].suggestions
    assert editor.table is not None and len(editor.table.rows) == 10


@pytest.mark.parametrize(("kitas_type", "index_code", "months"), [("worker", "E23", 12), ("student", "E30", 24)])
def test_the_panel_computes_what_the_fee_service_charges(
    draft: StudioDraft, kitas_type: str, index_code: str, months: int
) -> None:
    raw = {"kitas_type": kitas_type, "index_code": index_code, "duration_months": str(months)}
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", raw)
    assert test.outputs is not None and test.problem is None and test.is_fee
    assert test.outputs["fee_amount"] == fees.fee_for(kitas_type, index_code, months)


def test_a_changed_row_changes_the_amount_and_is_saved(draft: StudioDraft, users: dict[str, Any]) -> None:
    xml = draft.files["fees.dmn"].replace("<text>1700000</text>", "<text>1750000</text>")
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", WORKER_12, xml)
    assert test.outputs == {"fee_amount": 1_750_000} and test.unsaved
    revision = draft.revision
    editor = fee_testing.save_decision(draft.id, "fees.dmn", revision, users["analyst"], xml)
    assert editor.revision == revision + 1
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", WORKER_12)
    assert test.outputs == {"fee_amount": 1_750_000} and not test.unsaved
    with pytest.raises(Conflict):
        fee_testing.save_decision(draft.id, "fees.dmn", revision, users["admin"], xml)


def test_no_matching_row_bad_inputs_and_bad_tables_say_so(draft: StudioDraft, users: dict[str, Any]) -> None:
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", {**WORKER_12, "duration_months": "9"})
    assert test.outputs is None and test.problem == "No row of the table matches these inputs."
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", {**WORKER_12, "duration_months": "a year"})
    assert test.errors == {"duration_months": ["Enter a whole number."]} and test.values["duration_months"] == "a year"
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", {"kitas_type": "worker"})
    assert test.errors["index_code"] == ["Enter a value."]
    broken = draft.files["fees.dmn"].replace("<text>1700000</text>", "<text>1700000 +</text>")
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", WORKER_12, broken)
    assert test.outputs is None and test.problem
    revision = draft.revision
    with pytest.raises(DecisionRefused) as refused:
        fee_testing.save_decision(draft.id, "fees.dmn", revision, users["analyst"], "<definitions")
    assert "not XML" in refused.value.editor.errors["xml"][0] and refused.value.editor.xml == "<definitions"
    with pytest.raises(DecisionRefused):
        fee_testing.save_decision(draft.id, "fees.dmn", revision, users["analyst"], "<bpmn/>")
    assert drafts.get_draft(draft.id).revision == revision
    for name in ("../fees.dmn", "missing.dmn", "worker-applicant-data.schema.json"):
        with pytest.raises(NotFound):
            fee_testing.open_decision(draft.id, name)


def test_the_panel_names_the_matching_row_and_an_overlap(draft: StudioDraft) -> None:
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", WORKER_12)
    assert test.rows == [2] and test.overlap is None
    table = draft.files["fees.dmn"]
    start = table.index('<rule id="rule_worker_12">')
    row = table[start : table.index("</rule>", start) + len("</rule>")]
    second = row.replace("rule_worker_12", "rule_worker_12b").replace("1700000", "1900000")
    _editor, test = fee_testing.try_decision(draft.id, "fees.dmn", WORKER_12, table.replace(row, row + second))
    assert test.outputs == {"fee_amount": 1_700_000}  # what a case would charge: the first row
    assert test.rows == [2, 3] and test.overlap is not None and "UNIQUE" in test.overlap
