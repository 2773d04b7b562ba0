"""The lint: each rule on the element it concerns, the shipped diagrams deployable, and agreement with deployment."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kitas.services.deployments import check_deployable, collect_files
from kitas.services.studio.lint import lint_diagram, lint_draft, lint_path
from kitas.services.studio.lint.kitas_rules import _timer_message
from tests.conftest import DATA, ROOT, deploy_shared_steps

LINT = DATA / "lint"
FORMS = ROOT / "forms" / "schemas"
SHIPPED = sorted((ROOT / "bpmn").glob("*.bpmn")) + sorted((ROOT / "bpmn" / "shared").glob("*.bpmn"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_shipped_diagrams_lint_deployable_without_a_database(path: Path) -> None:
    report = lint_path(path, FORMS)
    errors = [p for p in report.problems if p.severity == "error"]
    assert report.imports and report.deployable and not errors, errors
    assert report.process_id == path.stem


def test_a_clean_diagram_has_no_problem() -> None:
    report = lint_path(LINT / "clean.bpmn")  # its forms are in forms/ beside it
    assert report.as_json() == {"process_id": "lint_clean", "imports": True, "deployable": True, "problems": []}


@pytest.mark.parametrize(
    ("file", "element", "rule", "severity"),
    [
        ("style.bpmn", "style_split", "no-implicit-split", "error"),
        ("style.bpmn", "style_a", "label-required", "warning"),
        ("style.bpmn", "style_pass", "superfluous-gateway", "warning"),
        ("style.bpmn", "style_join", "fake-join", "warning"),
        ("style.bpmn", "style_lonely", "no-disconnected", "warning"),
        ("style.bpmn", "style_f8", "no-duplicate-sequence-flows", "warning"),
        ("style.bpmn", "(document)", "kitas/labels-translated", "warning"),
        ("conditions.bpmn", "cond_f_no", "conditional-flows", "error"),
        ("no_start.bpmn", "lint_no_start", "start-event-required", "error"),
        ("no_start.bpmn", "lint_no_start", "end-event-required", "warning"),
        ("kitas_rules.bpmn", "lane_kitas_clerk", "kitas/lane-role", "error"),
        ("kitas_rules.bpmn", "kitas_apply", "kitas/form-exists", "error"),
        ("kitas_rules.bpmn", "kitas_verify", "kitas/sla-timer", "warning"),
        ("kitas_rules.bpmn", "kitas_verify", "kitas/payment-before-verification", "warning"),
        ("timers.bpmn", "timers_unquoted", "kitas/timer-parses", "error"),
        ("timers.bpmn", "timers_empty", "kitas/timer-parses", "error"),
        ("timers.bpmn", "timers_wrong", "kitas/timer-parses", "error"),
        ("calls.bpmn", "calls_nowhere", "kitas/call-resolves", "error"),
        ("calls.bpmn", "calls_sub", "start-event-required", "error"),
        ("two_processes.bpmn", "(document)", "process-choice", "warning"),
        ("misspelt.bpmn", "misspelt_f_yes", "kitas/form-fields", "warning"),
        ("events.bpmn", "events_ping_start", "event-sub-process-typed-start-event", "error"),
        ("events.bpmn", "events_manual", "kitas/lane-role", "error"),  # a confirmation for the lane's role
        ("events.bpmn", "events_hub", "no-gateway-join-fork", "warning"),
        ("in_file_call.bpmn", "inner_work", "label-required", "warning"),  # the called process of the file
        ("in_file_call.bpmn", "lint_inner", "engine", "error"),  # called, but marked not executable
    ],
)
def test_each_fixture_gives_its_rule_on_its_element(file: str, element: str, rule: str, severity: str) -> None:
    report = lint_path(LINT / file)
    found = [p for p in report.of(element) if p.rule == rule]
    assert [p.severity for p in found] == [severity], report.problems
    assert report.deployable is (not any(p.severity == "error" for p in report.problems))


def test_a_problem_is_said_once_even_when_the_engine_and_deployment_both_find_it() -> None:
    report = lint_path(LINT / "conditions.bpmn")
    assert [(p.element, p.rule) for p in report.problems] == [("cond_f_no", "conditional-flows")]
    # Plain words, what to do: no raw SpiffWorkflow sentence.
    assert "Give the flow a condition" in report.problems[0].message


def test_a_timer_that_is_right_says_nothing_and_one_without_zone_is_a_warning() -> None:
    report = lint_path(LINT / "timers.bpmn")
    assert report.of("timers_fine") == ()
    assert _timer_message("timeDuration", "payment_days") is None  # a name of the case's data
    # A cycle parses; where it may stand (a non-interrupting boundary timer) is the engine's check.
    assert _timer_message("timeCycle", '"R3/PT1H"') is None
    assert _timer_message("timeDate", '"2026-03-01T09:00:00+07:00"') is None
    assert _timer_message("timeDuration", "due_in") is None  # the case's data, checked when it runs
    severity, words = _timer_message("timeDate", '"2026-03-01T09:00:00"') or ("", "")
    assert severity == "warning" and "+07:00" in words
    assert _timer_message("timeCycle", '"R3/later"') is not None


def test_a_file_that_is_not_xml_does_not_import() -> None:
    report = lint_path(LINT / "not_xml.bpmn")
    assert not report.imports and not report.deployable
    assert [(p.element, p.severity) for p in report.problems] == [("(document)", "error")]
    assert "line 1" in report.problems[0].message


def test_xml_that_is_not_bpmn_does_not_import() -> None:
    report = lint_diagram("<html><body/></html>")
    assert not report.imports and "not a BPMN 2.0 diagram" in report.problems[0].message


def test_the_process_asked_for_is_the_one_linted() -> None:
    text = (LINT / "two_processes.bpmn").read_text()
    report = lint_diagram(
        text, {"two_processes.id.json": (LINT / "two_processes.id.json").read_text()}, process_id="lint_two_office"
    )
    assert report.process_id == "lint_two_office"
    assert not any(p.rule == "process-choice" for p in report.problems)
    missing = lint_diagram(text, process_id="nothing_here")
    assert not missing.deployable and "no process nothing_here" in missing.problems[0].message


def test_latin1_bytes_in_a_file_that_says_utf8_are_read() -> None:
    text = (LINT / "clean.bpmn").read_text().replace('name="Answer"', 'name="Réponse"')
    report = lint_diagram(
        text.encode("latin-1"), {"lint-answer.schema.json": (LINT / "forms" / "lint-answer.schema.json").read_text()}
    )
    assert report.imports and report.deployable


def test_an_untranslated_label_is_named_by_its_element() -> None:
    files = {
        "clean.id.json": '{"/clean_start": "Dimulai"}',
        "lint-answer.schema.json": (LINT / "forms" / "lint-answer.schema.json").read_text(),
    }
    report = lint_diagram((LINT / "clean.bpmn").read_text(), files)
    assert {p.element for p in report.problems if p.rule == "kitas/labels-translated"} == {"clean_answer", "clean_end"}
    assert report.deployable  # English shows where Indonesian is missing: a warning


def test_a_broken_form_is_an_error_on_its_task() -> None:
    files = {"lint-answer.schema.json": '{"type": "object", "properties": {"answer": {"type": "nonsense"}}}'}
    report = lint_diagram((LINT / "clean.bpmn").read_text(), files)
    assert [p.rule for p in report.of("clean_answer")] == ["kitas/form-fields"]
    assert not report.deployable


def test_as_json_translates_every_message() -> None:
    report = lint_path(LINT / "conditions.bpmn")
    shown = report.as_json(lambda message: f"<{message.msgid[:4]}>")
    assert shown["problems"] == [
        {"element": "cond_f_no", "severity": "error", "rule": "conditional-flows", "message": "<This>"}
    ]


def test_with_a_database_calls_resolve_to_deployed_versions_as_deployment_does(ctx: Any) -> None:
    path = ROOT / "bpmn" / "kitas_worker.bpmn"
    bpmn, files = collect_files(path, FORMS)
    before = lint_diagram(bpmn, files)  # nothing deployed: the shared steps are not reachable
    assert not before.deployable and check_deployable(bpmn, files)
    assert {p.element for p in before.problems if p.rule == "kitas/call-resolves"} >= {"call_payment", "call_approval"}
    deploy_shared_steps()
    after = lint_diagram(bpmn, files)
    assert after.deployable and check_deployable(bpmn, files) == []


def test_a_draft_is_linted_with_its_files_and_process(ctx: Any) -> None:
    deploy_shared_steps()
    bpmn, files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", FORMS)
    draft = SimpleNamespace(bpmn_xml=bpmn, files=files, process_id="kitas_worker")
    assert lint_draft(draft).deployable  # type: ignore[arg-type]
    broken = SimpleNamespace(bpmn_xml=bpmn.replace('"P14D"', "P14D"), files=files, process_id="kitas_worker")
    report = lint_draft(broken)  # type: ignore[arg-type]
    assert [p.rule for p in report.of("sponsor_deadline")] == ["kitas/timer-parses"]


def test_a_condition_names_the_misspelt_field_only() -> None:
    report = lint_path(LINT / "misspelt.bpmn")
    # "answer" is the form's field and "ready" the script's; "raedy" is nobody's.
    assert [(p.element, p.message.params) for p in report.problems] == [("misspelt_f_yes", {"name": "raedy"})]
    assert report.deployable


def test_exclusive_paths_meeting_at_a_task_are_no_fake_join() -> None:
    # The worker's review is reached from payment and again when the supervisor sends the case back.
    report = lint_path(ROOT / "bpmn" / "kitas_worker.bpmn", FORMS)
    assert report.of("call_document_review") == ()
    assert [p.rule for p in report.of("conduct_interview")] == ["kitas/sla-timer"]


def test_a_process_of_the_file_that_is_called_is_no_choice_to_make() -> None:
    report = lint_path(LINT / "in_file_call.bpmn")
    assert report.process_id == "lint_caller"
    assert not any(p.rule in ("process-choice", "kitas/call-resolves") for p in report.problems)
