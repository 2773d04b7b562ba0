"""Decision tables on their own: the rows as written, and an evaluation that means what a case's does."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import CaseRuntime, DiagramError, ScriptError
from engine.decisions import decide, decision_ids, read_decision
from tests.engine.bundles import parse_bundle

ROOT = Path(__file__).resolve().parents[2]
FEES = (ROOT / "bpmn" / "fees.dmn").read_text(encoding="utf-8")


def test_the_fee_table_reads_as_written() -> None:
    table = read_decision(FEES, "kitas_fee")
    assert table.hit_policy == "UNIQUE"
    assert [column.expression for column in table.inputs] == ["kitas_type", "index_code", "duration_months"]
    assert [column.name for column in table.outputs] == ["fee_amount"]
    first = table.rows[0]
    assert (first.id, first.number, first.inputs, first.outputs) == (
        "rule_worker_6",
        1,
        ('"worker"', "", "6"),
        ("1200000",),
    )
    assert len(table.rows) == 10 and decision_ids(FEES) == ("kitas_fee",)


@pytest.mark.parametrize(
    ("inputs", "fee"),
    [
        ({"kitas_type": "worker", "index_code": "E23", "duration_months": 6}, 1_200_000),
        ({"kitas_type": "worker", "index_code": "E23", "duration_months": 24}, 2_200_000),
        ({"kitas_type": "family", "index_code": "E31C", "duration_months": 12}, 1_700_000),
        ({"kitas_type": "student", "index_code": "E30", "duration_months": 48}, 12_000_000),
    ],
)
def test_evaluation_gives_the_row_that_matches(inputs: dict[str, object], fee: int) -> None:
    assert decide(FEES, "kitas_fee", inputs) == {"fee_amount": fee}


def test_no_row_matches_a_duration_the_table_does_not_have() -> None:
    assert decide(FEES, "kitas_fee", {"kitas_type": "worker", "index_code": "E23", "duration_months": 7}) == {}
    assert decide(FEES, "kitas_fee", {"kitas_type": "astronaut", "index_code": "", "duration_months": 12}) == {}


def test_evaluation_agrees_with_the_business_rule_task_of_a_case() -> None:
    """The worker diagram's compute_fee and decide() give the same amount for every offered length."""
    model = parse_bundle(ROOT / "bpmn" / "kitas_worker.bpmn")
    compute_fee = model.subprocess_specs["shared_payment"].task_specs["compute_fee"]
    for months in (6, 12, 24):
        data = {"kitas_type": "worker", "index_code": "E23", "duration_months": months}
        assert decide(FEES, "kitas_fee", data)["fee_amount"] == _fee_of_task(compute_fee, data)


def _fee_of_task(task_spec: object, data: dict[str, object]) -> object:
    """Run the diagram's own decision engine on a workflow task holding ``data``."""
    runtime = CaseRuntime.start(parse_bundle(ROOT / "bpmn" / "kitas_worker.bpmn"), data, run=False)
    task = runtime.workflow.get_tasks(spec_name="start")[0]
    task.data.update(data)
    return task_spec.dmnEngine.result(task)["fee_amount"]  # type: ignore[attr-defined]


def test_an_expression_the_sandbox_refuses_is_refused_before_it_runs() -> None:
    changed = FEES.replace("<text>1200000</text>", "<text>open('/etc/passwd')</text>", 1)
    with pytest.raises(DiagramError):
        decide(changed, "kitas_fee", {"kitas_type": "worker", "index_code": "E23", "duration_months": 6})


def test_a_missing_input_is_a_script_error_naming_the_variable() -> None:
    with pytest.raises(ScriptError, match="duration_months"):
        decide(FEES, "kitas_fee", {"kitas_type": "worker", "index_code": "E23"})


def test_an_unknown_decision_is_refused() -> None:
    with pytest.raises(DiagramError, match="other_fee"):
        read_decision(FEES, "other_fee")
