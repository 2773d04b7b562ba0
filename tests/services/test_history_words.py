"""Every kind of row a case's audit chain can hold is told in words in both languages, or kept out on purpose.

The kinds are found by reading the code (every ``step.audit(...)``, ``audit.record(..., application_id=/case=)``,
queued ``_audits`` row and incident ``record(...)``), so a new kind without words fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from kitas.i18n import in_language, translate
from kitas.models import Application, AuditEvent
from kitas.services.cases import history_words
from kitas.services.cases.history_words import EVENT_WORDS, HIDDEN_EVENTS, Words
from workflows import catalog

ROOT = Path(__file__).resolve().parents[2]


def _constants() -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments of the code (action names kept as constants)."""
    found: dict[str, str] = {}
    for path in (ROOT / "kitas").rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value.value
    return found


def _action(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _case_chain_kinds() -> dict[str, str]:
    """Every action the code can append to a case's chain, with where it was found."""
    constants = _constants()
    kinds: dict[str, str] = {}
    for path in (ROOT / "kitas").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            keywords = {keyword.arg for keyword in node.keywords}
            first: ast.expr | None = None
            if name == "audit" and isinstance(func, ast.Attribute):  # step.audit(action, ...)
                first = node.args[0]
            elif name == "record" and owner == "audit" and keywords & {"application_id", "case"}:
                first = node.args[0]
            elif name == "record" and isinstance(func, ast.Name):  # an incident's record(action, ...)
                first = node.args[0]
            elif (
                name == "append"
                and owner == "self"
                or (
                    name == "append"
                    and isinstance(func, ast.Attribute)
                    and getattr(func.value, "attr", "") == "_audits"
                )
            ):
                if isinstance(node.args[0], ast.Tuple) and node.args[0].elts:
                    first = node.args[0].elts[0]
            action = _action(first, constants) if first is not None else None
            if action:
                kinds.setdefault(action, f"{path.relative_to(ROOT)}:{node.lineno}")
    return kinds


def test_the_walk_finds_the_kinds_we_know_of() -> None:
    kinds = _case_chain_kinds()
    for known in ("case_started", "task_completed", "timer_fired", "payment_confirmed", "billing_created"):
        assert known in kinds
    for known in ("sponsor_invited", "permit_issued", "incident_opened", "document_viewed", "permit_revoked"):
        assert known in kinds
    assert "login_succeeded" not in kinds  # an account's chain, not a case's


def test_every_kind_a_case_can_record_has_words_or_is_hidden_on_purpose() -> None:
    missing = {
        kind: where
        for kind, where in _case_chain_kinds().items()
        if kind not in EVENT_WORDS | dict.fromkeys(HIDDEN_EVENTS)
    }
    assert not missing, f"history words missing for {missing} (kitas/services/cases/history_words.py)"


RAW = re.compile(r"[a-z]+_[a-z_]+|payment:|scheduler |\bNone\b")


@pytest.mark.parametrize("kind", sorted(EVENT_WORDS))
@pytest.mark.parametrize("language", ["en", "id"])
def test_each_kind_reads_in_words_even_with_an_empty_detail(ctx: Flask, kind: str, language: str) -> None:
    application = Application(reference="W-TEST", kitas_type="worker", applicant_id=1)
    row = AuditEvent(action=kind, detail={}, actor="payment:unknown-provider")
    with ctx.test_request_context(), in_language(language):
        words = Words(application, {}, row.actor, {}, {}, catalog(language))
        text = history_words.describe(row, words)
        assert text
        shown = translate(text)
    assert not RAW.search(shown), f"{kind} shows a raw id: {shown!r}"
    if language == "id":
        assert shown != str(text) or kind == "message_delivered", f"{kind} has no Indonesian: {shown!r}"


def _detail_samples() -> dict[str, dict[str, Any]]:
    return {
        "billing_created": {
            "provider": "sandbox",
            "billing_code": "8801",
            "amount": 1500000,
            "expires_at": "2026-12-08T10:00:00+00:00",
        },
        "payment_confirmed": {"billing_code": "8801", "amount": 1500000},
        "document_uploaded": {"field": "rptka_approval"},
        "timer_fired": {"timer": "verify_sla", "escalates": "verify_documents"},
    }


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "the sandbox bank (a simulation)",
                "Rp 1.500.000",
                "RPTKA approval",
                "Escalated to a supervisor: Verification SLA",
            ],
        ),
        ("id", ["bank sandbox (simulasi)", "Rp 1.500.000", "Pengesahan RPTKA", "Batas waktu verifikasi (5 hari)"]),
    ],
)
def test_details_are_told_by_their_names(ctx: Flask, language: str, expected: list[str]) -> None:
    application = Application(reference="W-TEST", kitas_type="worker", applicant_id=1)
    cat = catalog(language)
    documents = {doc.key: doc.name for doc in cat.by_code("worker").documents}
    steps = {"verify_sla": {"en": "Verification SLA (5 days)", "id": "Batas waktu verifikasi (5 hari)"}[language]}
    shown = []
    with ctx.test_request_context(), in_language(language):
        for kind, detail in _detail_samples().items():
            row = AuditEvent(action=kind, detail=detail, actor="payment:sandbox")
            shown.append(
                translate(history_words.describe(row, Words(application, detail, row.actor, steps, documents, cat)))
            )
    text = " | ".join(shown)
    for words in expected:
        assert words in text
    assert "rptka_approval" not in text and "payment:sandbox" not in text and "verify_sla" not in text
