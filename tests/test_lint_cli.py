"""``kitas lint``: JSON over the files of tests/data/, text for people, exit codes, and no database needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import DATA, ROOT

LINT = DATA / "lint"


def _lint(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["lint", *args])


def test_json_over_the_test_data_reports_every_diagram(ctx: Any) -> None:
    result = _lint(ctx, str(DATA), "--format", "json")
    assert result.exit_code == 1, result.output  # some fixtures cannot be deployed
    reports = json.loads(result.output)
    assert sorted(r["file"] for r in reports) == sorted(str(p) for p in DATA.rglob("*.bpmn"))
    for report in reports:
        assert set(report) == {"file", "process_id", "imports", "deployable", "problems"}
        for problem in report["problems"]:
            assert set(problem) == {"element", "severity", "rule", "message"}
            assert problem["severity"] in ("error", "warning") and problem["message"]
        if report["deployable"]:
            assert not any(p["severity"] == "error" for p in report["problems"])
    by_file = {Path(r["file"]).name: r for r in reports}
    assert by_file["not_xml.bpmn"]["imports"] is False
    assert by_file["clean.bpmn"] == {
        "file": str(LINT / "clean.bpmn"),
        "process_id": "lint_clean",
        "imports": True,
        "deployable": True,
        "problems": [],
    }
    conditions = by_file["conditions.bpmn"]
    assert conditions["deployable"] is False
    assert [(p["element"], p["rule"]) for p in conditions["problems"]] == [("cond_f_no", "conditional-flows")]


def test_exit_code_is_zero_when_every_file_can_be_deployed(ctx: Any) -> None:
    result = _lint(ctx, str(LINT / "clean.bpmn"), str(LINT / "conditions.bpmn"))
    assert result.exit_code == 1  # one of the two cannot be deployed
    ok = _lint(ctx, str(LINT / "clean.bpmn"))
    assert ok.exit_code == 0, ok.output
    assert "lint_clean imports, can be deployed (0 errors, 0 warnings)" in ok.output


def test_text_names_each_problem_with_its_element_and_rule(ctx: Any) -> None:
    result = _lint(ctx, str(LINT / "timers.bpmn"))
    assert result.exit_code == 1
    assert "lint_timers imports, cannot be deployed (3 errors, 0 warnings)" in result.output
    assert "error   timers_unquoted [kitas/timer-parses] The timer P5D is not quoted" in result.output


def test_a_file_that_does_not_import_fails(ctx: Any) -> None:
    result = _lint(ctx, str(LINT / "not_xml.bpmn"))
    assert result.exit_code == 1 and "does not import" in result.output


def test_messages_in_indonesian(ctx: Any) -> None:
    result = _lint(ctx, str(LINT / "conditions.bpmn"), "--format", "json", "--language", "id")
    message = json.loads(result.output)[0]["problems"][0]["message"]
    assert "condition" not in message and message


def test_lint_needs_no_database(tmp_path: Path) -> None:
    from app import create_app

    missing = tmp_path / "none.db"
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}", "TESTING": True})
    paths = [str(ROOT / "bpmn" / "kitas_worker.bpmn"), str(ROOT / "bpmn" / "shared")]
    result = app.test_cli_runner().invoke(args=["lint", *paths, "--format", "json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)
    assert len(reports) == 6 and all(r["deployable"] for r in reports)
    assert not missing.exists()  # nothing was created to lint


FOREIGN = DATA / "foreign"
# Each foreign file (tests/data/foreign/README.md): the process linted, whether it imports and can be deployed,
# and its errors as (element, rule). Every one imports (any BPMN 2.0 file is a draft); none deploys as it
# comes: each names, element by element, what must change first.
FOREIGN_ERRORS = {
    "adonis_latin1_manual.bpmn": ("adonis_antrag", [("ADONIS_lane_verifier", "kitas/lane-role")]),
    "aris_event_subprocess.bpmn": ("aris_permit", [("ARIS_lane_verifier", "kitas/lane-role")]),
    "bizagi_subprocess_boundary.bpmn": ("Id_bizagi_process", [("Id_lane_verifier", "kitas/lane-role")]),
    "call_child.bpmn": ("call_child", [("Lane_child", "kitas/lane-role")]),
    "call_parent.bpmn": ("call_parent", [("Call_child", "kitas/call-resolves"), ("Lane_parent", "kitas/lane-role")]),
    "camunda7_juel_conditions.bpmn": ("juel_review", [("Flow_j3", "engine"), ("Wait_juel", "kitas/timer-parses")]),
    "camunda7_leave_request.bpmn": (
        "leave_request",
        [("Lane_supervisor", "kitas/lane-role"), ("Lane_verifier", "kitas/lane-role")],
    ),
    "camunda8_service_task.bpmn": ("zeebe_notify", [("Task_send_mail", "engine")]),
    "camunda8_zeebe_order.bpmn": ("zeebe_order", [("Task_pack", "kitas/lane-role"), ("Task_ship", "kitas/lane-role")]),
    "cycle_timer_reminder.bpmn": ("cycle_reminder", [("Lane_cycle", "kitas/lane-role")]),
    "empty_time_date.bpmn": ("empty_time_date", [("Timer_appointment", "kitas/timer-parses")]),
    "enterprise_architect_data_store.bpmn": (
        "EAID_process",
        [("EAID_lane_verifier", "kitas/lane-role"), ("EAID_store_ref", "engine")],
    ),
    "gateway_without_default.bpmn": ("gateway_without_default", [("Flow_g3", "conditional-flows")]),
    "implicit_split.bpmn": ("implicit_split", [("Task_prepare", "no-implicit-split")]),
    "script_vars_locals.bpmn": ("script_introspection", [("Script_locals", "engine"), ("Script_vars", "engine")]),
    "signavio_collaboration.bpmn": ("sid-applicant-process", [("sid-lane-verifier", "kitas/lane-role")]),
    "xsd_error.bpmn": ("schema_error", [("Flow_x1", "engine")]),
}


def test_json_over_the_foreign_files_gives_each_its_flags_and_errors(ctx: Any) -> None:
    result = _lint(ctx, str(FOREIGN), "--format", "json")
    assert result.exit_code == 1, result.output
    reports = {Path(r["file"]).name: r for r in json.loads(result.output)}
    assert sorted(reports) == sorted(p.name for p in FOREIGN.glob("*.bpmn")) == sorted(FOREIGN_ERRORS)
    for name, (process_id, errors) in FOREIGN_ERRORS.items():
        report = reports[name]
        assert (report["process_id"], report["imports"], report["deployable"]) == (process_id, True, False), name
        found = sorted({(p["element"], p["rule"]) for p in report["problems"] if p["severity"] == "error"})
        assert found == errors, name
    # A Camunda diagram's user tasks carry no SpiffArena form: a warning (a Confirm button), not an error.
    leave = reports["camunda7_leave_request.bpmn"]["problems"]
    assert {(p["element"], p["severity"]) for p in leave if p["rule"] == "kitas/form-exists"} == {
        ("Task_check", "warning"),
        ("Task_approve", "warning"),
    }
