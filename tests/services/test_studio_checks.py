"""The properties panel's checks: code compiled under the deployment's sandbox, timers told in plain words
in both languages, and what a draft's panel picks from."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from kitas.extensions import db
from kitas.i18n import translate
from kitas.services.errors import InvalidInput, NotFound
from kitas.services.studio import drafts
from kitas.services.studio.checks import check_code, check_timer, draft_context


def _words(kind: str, text: str, language: str, **kwargs: Any) -> tuple[str | None, str | None]:
    result = check_timer(kind, text, **kwargs)
    with force_locale(language):
        return translate(result.words), translate(result.problem)


def test_good_code_passes_as_deployment_would(ctx: Flask) -> None:
    script = 'fee = round_rupiah(amount * 1.1)\nnotes = []\nif fee > 0:\n    notes.append("paid")'
    assert check_code(script, "script") == []
    assert check_code('decision == "approve" and amount <= 5000000', "condition") == []


def test_a_syntax_error_names_its_line(ctx: Flask) -> None:
    problems = check_code("total = 1\nfee = (total +\n", "script")
    assert [p.line for p in problems] == [2] and "SyntaxError" in problems[0].message
    # A condition is one expression: an assignment is no condition.
    problems = check_code("decision = 'approve'", "condition")
    assert problems and problems[0].line == 1


def test_what_the_sandbox_refuses_is_refused_line_by_line(ctx: Flask) -> None:
    problems = check_code('import os\nx = ().__class__\nopen("/etc/passwd")\nvars = 1', "script")
    by_line = {p.line: p.message for p in problems}
    assert set(by_line) == {1, 2, 3, 4}
    assert "imports are not allowed" in by_line[1]
    assert "__class__" in by_line[2]
    assert "'open' is not available" in by_line[3]
    assert "'vars' is reserved" in by_line[4]  # passes Python, fails at run time: refused here already
    assert check_code("payment.__dict__", "condition")[0].line == 1


def test_an_empty_condition_says_what_to_write_and_a_bad_kind_is_refused(ctx: Flask) -> None:
    problems = check_code("  ", "condition")
    assert len(problems) == 1 and problems[0].line is None and "Write the condition" in problems[0].message
    assert check_code("", "script") == []  # an empty script does nothing; deployment accepts it
    with pytest.raises(InvalidInput):
        check_code("x = 1", "macro")


@pytest.mark.parametrize(
    ("kind", "text", "english", "indonesian"),
    [
        ("duration", "P5D", "5 days after the task starts", "5 hari setelah tugas dimulai"),
        ("duration", "P1D", "1 day after the task starts", "1 hari setelah tugas dimulai"),
        (
            "duration",
            "P1Y2M3D",
            "1 year, 2 months and 3 days after the task starts",
            "1 tahun, 2 bulan dan 3 hari setelah tugas dimulai",
        ),
        (
            "duration",
            "PT1H30M",
            "1 hour and 30 minutes after the task starts",
            "1 jam dan 30 menit setelah tugas dimulai",
        ),
        ("duration", "P2W", "2 weeks after the task starts", "2 minggu setelah tugas dimulai"),
        ("date", "2027-03-01T09:00:00+07:00", "on 1 March 2027 at 09:00 WIB", "pada 1 Maret 2027 pukul 09:00 WIB"),
        ("date", "2027-03-01T10:00:00+08:00", "on 1 March 2027 at 10:00 WITA", "pada 1 Maret 2027 pukul 10:00 WITA"),
        ("date", "2027-03-01T02:00:00Z", "on 1 March 2027 at 09:00 WIB", "pada 1 Maret 2027 pukul 09:00 WIB"),
        ("cycle", "R3/PT1H", "3 times, every hour", "3 kali, setiap jam"),
        ("cycle", "R3/PT2H", "3 times, every 2 hours", "3 kali, setiap 2 jam"),
        ("cycle", "R/P1D", "every day, without end", "setiap hari, tanpa akhir"),
        ("cycle", "R1/PT4H", "once, after 4 hours", "sekali, setelah 4 jam"),
        (
            "cycle",
            "R2/2027-03-01T09:00:00+07:00/P1W",
            "2 times, every week, starting on 1 March 2027 at 09:00 WIB",
            "2 kali, setiap minggu, mulai pada 1 Maret 2027 pukul 09:00 WIB",
        ),
    ],
)
def test_timers_in_plain_words_in_both_languages(
    ctx: Flask, kind: str, text: str, english: str, indonesian: str
) -> None:
    assert _words(kind, text, "en") == (english, None)
    assert _words(kind, text, "id") == (indonesian, None)


def test_a_timer_away_from_a_task_counts_from_the_event(ctx: Flask) -> None:
    assert _words("duration", "P7D", "en", attached=False)[0] == "7 days after the case reaches this event"
    assert _words("duration", "P7D", "id", attached=False)[0] == "7 hari setelah kasus mencapai peristiwa ini"


@pytest.mark.parametrize(
    ("kind", "text", "english", "indonesian"),
    [
        ("duration", "P5X", "“P5X” is not an ISO 8601 duration", "“P5X” bukan durasi ISO 8601"),
        ("duration", '"P5D"', "is not an ISO 8601 duration", "bukan durasi ISO 8601"),
        ("duration", "P", "“P” is not an ISO 8601 duration", "“P” bukan durasi ISO 8601"),
        ("duration", "PT", "is not an ISO 8601 duration", "bukan durasi ISO 8601"),
        ("duration", "5 days", "is not an ISO 8601 duration", "bukan durasi ISO 8601"),
        ("duration", "P1W2D", "Weeks cannot be combined", "Minggu tidak dapat digabung"),
        ("duration", "", "Write a duration", "Tulis durasi"),
        ("date", "2027-03-01T09:00:00", "has no time-zone offset", "tidak memiliki selisih zona waktu"),
        ("date", "2027-03-01", "Add the time of day", "Tambahkan jam"),
        ("date", "next monday", "is not an ISO 8601 date and time", "bukan tanggal dan jam ISO 8601"),
        ("date", "", "Write a date and time", "Tulis tanggal dan jam"),
        ("cycle", "R3", "is not a cycle", "bukan siklus"),
        ("cycle", "PT1H", "is not a cycle", "bukan siklus"),
        ("cycle", "R0/PT1H", "A cycle runs at least once", "Siklus berjalan setidaknya sekali"),
        ("cycle", "R3/PT1X", "“PT1X” is not an ISO 8601 duration", "“PT1X” bukan durasi ISO 8601"),
        ("cycle", "R3/2027-03-01T09:00:00/P1D", "has no time-zone offset", "tidak memiliki selisih zona waktu"),
    ],
)
def test_bad_timer_values_get_a_clear_problem_in_both_languages(
    ctx: Flask, kind: str, text: str, english: str, indonesian: str
) -> None:
    words, problem = _words(kind, text, "en")
    assert words is None and problem is not None and english in problem
    words, problem = _words(kind, text, "id")
    assert words is None and problem is not None and indonesian in problem


def test_an_unknown_timer_kind_is_refused(ctx: Flask) -> None:
    with pytest.raises(InvalidInput):
        check_timer("weekly", "P7D")


def test_the_context_of_a_draft_lists_what_its_panel_picks_from(worker: int, users: dict[str, Any]) -> None:
    draft = drafts.open_draft("kitas_worker", users["analyst"])
    context = draft_context(draft.id)
    assert context["lanes"] == {
        "Applicant": "applicant",
        "Sponsor": "sponsor",
        "Verifier": "verifier",
        "Supervisor": "supervisor",
    }
    assert context["roles"] == ["applicant", "sponsor", "supervisor", "verifier"]
    assert context["shared_steps"] == [
        "shared_approval",
        "shared_biometrics",
        "shared_document_review",
        "shared_issuance",
        "shared_payment",
    ]
    schemas, ui_schemas = context["forms"]["schemas"], context["forms"]["ui_schemas"]
    assert "worker-applicant-data.schema.json" in schemas and "worker-applicant-data.uischema.json" in ui_schemas
    assert not set(schemas) & set(ui_schemas)
    assert not [name for name in schemas + ui_schemas if name.endswith(".id.json")]  # translations are no forms
    assert context["decisions"] == ["kitas_fee"]  # its fees.dmn, which its version carries


def test_the_context_names_decisions_and_sorts_forms_by_their_content(worker: int, users: dict[str, Any]) -> None:
    draft = drafts.open_draft("shared_payment", users["analyst"])
    assert "kitas_fee" in draft_context(draft.id)["decisions"]
    # Written straight to the draft: what the studio's save would store (save_draft is tested elsewhere).
    draft.files = {
        **draft.files,
        "visa-form.json": '{"type": "object", "properties": {}}',
        "visa-layout.json": '{"ui:order": ["name"]}',
        "extra.dmn": '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"><decision id="extra_rule"/>'
        "</definitions>",
    }
    db.session.commit()
    context = draft_context(draft.id)
    assert "visa-form.json" in context["forms"]["schemas"] and "visa-layout.json" in context["forms"]["ui_schemas"]
    assert {"kitas_fee", "extra_rule"} <= set(context["decisions"])


def test_the_context_of_a_missing_or_discarded_draft_is_not_found(worker: int, users: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        draft_context(4242)
    draft = drafts.open_draft("kitas_worker", users["analyst"])
    drafts.discard_draft(draft.id, users["analyst"])
    with pytest.raises(NotFound):
        draft_context(draft.id)
