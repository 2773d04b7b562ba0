"""The words a form's answers are reviewed in (officers, the sponsor) never speak to the person who gave them.

A form speaks to whoever fills it ("Your decision", "We confirm: ..."); where someone else reads the
answers, the form file gives reviewer words (``ui:reviewTitle``, ``ui:reviewEnumNames``). Every form file
of the repository is checked in both languages, so a new type's forms are held to it too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from forms.loading import check_form, load_form
from forms.spec import FormSpec
from forms.texts import localize, parse_texts

SCHEMAS = Path(__file__).resolve().parents[2] / "forms" / "schemas"
# Words that address the reader or speak as the one who answered, in each language.
ADDRESSING = {
    "en": re.compile(r"\b(?i:you|your|yours|we|our|my|me)\b|\bI\b"),
    "id": re.compile(r"\b(Anda|kami|saya)\b", re.IGNORECASE),
}


def _forms() -> list[Path]:
    return sorted(path for path in SCHEMAS.glob("*.schema.json"))


def _load(path: Path, language: str) -> FormSpec:
    ui_path = path.with_name(path.name.replace(".schema.json", ".uischema.json"))
    schema = json.loads(path.read_text(encoding="utf-8"))
    ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.exists() else {}
    if language == "id":
        for document, file in ((schema, path), (ui, ui_path)):
            texts = file.with_name(file.name.replace(".json", ".id.json"))
            if texts.exists():
                localized = localize(document, parse_texts(texts.read_text(encoding="utf-8"), texts.name))
                document.clear()
                document.update(localized)
    return load_form(json.dumps(schema), json.dumps(ui), path.name)


def _review_words(form: FormSpec) -> list[str]:
    words = [form.review_title]
    for field in form.fields:
        words.append(field.review_title)
        words.extend(option.label for option in field.review_options)
        words.extend(sub.review_title for sub in field.items)
    return words


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("path", _forms(), ids=lambda p: p.name)
def test_reviewers_read_no_words_addressed_to_the_one_who_answered(path: Path, language: str) -> None:
    form = _load(path, language)
    wrong = [text for text in _review_words(form) if ADDRESSING[language].search(str(text))]
    assert not wrong, (
        f"{path.name} ({language}): give these reviewer words (ui:reviewTitle/ui:reviewEnumNames): {wrong}"
    )


def test_the_worker_forms_speak_to_the_sponsor_and_to_reviewers_differently() -> None:
    form = _load(SCHEMAS / "worker-sponsor-confirmation.schema.json", "en")
    decision = form.field("sponsor_decision")
    assert decision is not None
    assert decision.title == "Your decision" and decision.review_title == "Sponsor's decision"
    assert [o.label for o in decision.options][0] == "We confirm: we sponsor this worker"
    assert [o.label for o in decision.review_options][0] == "Confirmed: the employer sponsors this worker"
    indonesian = _load(SCHEMAS / "worker-sponsor-confirmation.schema.json", "id")
    assert indonesian.review_title == "Konfirmasi penjamin" and indonesian.title == "Konfirmasi penjaminan"


def test_review_choices_must_match_the_choices() -> None:
    schema = {"type": "object", "title": "T", "properties": {"d": {"type": "string", "title": "D", "enum": ["a", "b"]}}}
    problems = check_form(schema, {"d": {"ui:reviewEnumNames": ["only one"]}})
    assert any("ui:reviewEnumNames has 1 labels for 2 values" in str(problem) for problem in problems)
    assert not check_form(schema, {"d": {"ui:reviewEnumNames": ["A", "B"], "ui:reviewTitle": "Their D"}})


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_status_has_words_for_the_officers(language: str) -> None:
    from workflows import catalog

    statuses = catalog(language).statuses
    missing = [code for code, text in statuses.items() if not text.officer_explanation]
    assert not missing, f"statuses without officer_explanation in the catalog: {missing}"
    addressed = [t.officer_explanation for t in statuses.values() if ADDRESSING[language].search(t.officer_explanation)]
    assert not addressed
