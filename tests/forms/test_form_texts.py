"""Every text people read in a form, the catalog or the worker diagram has its Indonesian translation
beside the file (``NAME.id.json``, JSON pointer -> text), and no translation names a text that is gone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine import parse_process
from forms.texts import localize, missing_texts, parse_texts, text_pointers
from tests.worker_data import shared_diagrams

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms" / "schemas"
CATALOG = ROOT / "workflows" / "kitas_types.json"
DIAGRAMS = sorted([*ROOT.joinpath("bpmn").glob("*.bpmn"), *ROOT.joinpath("bpmn", "shared").glob("*.bpmn")])
# Placeholders a translation must keep: "{reference}" (the catalog's notices), "%(limit)s".
_PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def texts_problems(document: Any, texts_text: str | None, name: str) -> list[str]:
    """What is wrong with a document's translations file: absent, not valid, a text without
    translation, a translation of a text the document does not have, a placeholder lost."""
    if texts_text is None:
        return [f"{name}: there is no translations file"]
    try:
        texts = parse_texts(texts_text, name)
    except ValueError as error:
        return [str(error)]
    untranslated, stale = missing_texts(document, texts)
    problems = [f"{name}: no translation for {pointer}" for pointer in untranslated]
    problems += [f"{name}: {pointer} is not a text of the file" for pointer in stale]
    english = dict(text_pointers(document))
    for pointer, text in texts.items():
        if pointer in english and sorted(_PLACEHOLDER.findall(english[pointer])) != sorted(_PLACEHOLDER.findall(text)):
            problems.append(f"{name}: {pointer} does not keep the placeholders of {english[pointer]!r}")
    return problems


def _translations_of(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".json") + ".id.json")


def _form_files() -> list[Path]:
    return sorted(p for p in FORMS.glob("*.json") if not p.name.endswith(".id.json"))


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


@pytest.mark.parametrize("path", _form_files(), ids=lambda p: p.name)
def test_every_form_file_has_a_complete_indonesian_translation(path: Path) -> None:
    texts = _translations_of(path)
    assert texts_problems(json.loads(path.read_text(encoding="utf-8")), _read(texts), texts.name) == []


def test_the_catalog_has_a_complete_indonesian_translation() -> None:
    texts = _translations_of(CATALOG)
    assert texts_problems(json.loads(CATALOG.read_text(encoding="utf-8")), _read(texts), texts.name) == []


@pytest.mark.parametrize("diagram", DIAGRAMS, ids=lambda p: p.name)
def test_every_named_element_of_a_diagram_has_an_indonesian_name(diagram: Path) -> None:
    decisions = {p.name: p.read_text(encoding="utf-8") for p in ROOT.joinpath("bpmn").glob("*.dmn")}
    called = {name: text for name, text in shared_diagrams().items() if name != diagram.name}
    model = parse_process(diagram.read_text(encoding="utf-8"), decisions, called=called)
    texts_file = diagram.with_name(f"{diagram.stem}.id.json")
    texts = parse_texts(texts_file.read_text(encoding="utf-8"), texts_file.name)
    # A diagram's file names its own elements; those of the shared steps it calls are in theirs.
    own = {element for element in model.element_names if f'id="{element}"' in diagram.read_text(encoding="utf-8")}
    wanted = {f"/{element}" for element in own}
    assert sorted(wanted - set(texts)) == [], "elements without an Indonesian name"
    assert sorted(set(texts) - wanted) == [], "translations of elements the diagram does not have"
    for info in model.user_tasks.values():  # every task people work on is named in Indonesian
        if info.element_id in own:
            assert texts[f"/{info.element_id}"] != info.name


def test_no_stray_translations_file() -> None:
    sources = {p.name for p in _form_files()}
    for texts in FORMS.glob("*.id.json"):
        assert texts.name.removesuffix(".id.json") + ".json" in sources, f"{texts.name} translates no form file"


# The check itself: it fails when a text has no translation (a small form in memory).
SMALL_FORM = {
    "title": "Applicant details",
    "properties": {
        "full_name": {"type": "string", "title": "Full name", "description": "As printed in your passport."},
        "passport_number": {"type": "string", "title": "Passport number", "examples": ["A1234567"]},
    },
}
SMALL_TEXTS = {
    "/title": "Data pemohon",
    "/properties/full_name/title": "Nama lengkap",
    "/properties/full_name/description": "Sesuai dengan yang tercetak di paspor Anda.",
    "/properties/passport_number/title": "Nomor paspor",
}


def test_a_complete_translation_passes_and_localizes_only_texts() -> None:
    assert texts_problems(SMALL_FORM, json.dumps(SMALL_TEXTS), "small.id.json") == []
    localized = localize(SMALL_FORM, SMALL_TEXTS)
    assert localized["properties"]["full_name"]["title"] == "Nama lengkap"
    assert localized["properties"]["passport_number"]["type"] == "string"  # the schema is the same
    assert SMALL_FORM["title"] == "Applicant details"  # and the original untouched


def test_the_check_fails_when_a_text_has_no_translation() -> None:
    texts = {k: v for k, v in SMALL_TEXTS.items() if k != "/properties/full_name/description"}
    assert texts_problems(SMALL_FORM, json.dumps(texts), "small.id.json") == [
        "small.id.json: no translation for /properties/full_name/description"
    ]


def test_the_check_fails_on_a_stale_or_broken_translation() -> None:
    stale = {**SMALL_TEXTS, "/properties/phone/title": "Nomor telepon"}
    assert texts_problems(SMALL_FORM, json.dumps(stale), "small.id.json") == [
        "small.id.json: /properties/phone/title is not a text of the file"
    ]
    assert texts_problems(SMALL_FORM, None, "small.id.json") == ["small.id.json: there is no translations file"]
    assert texts_problems(SMALL_FORM, "[1, 2]", "small.id.json") == [
        "small.id.json: must be a JSON object of pointer -> text"
    ]
    notice = {"subject": "{reference}: please confirm"}
    lost = texts_problems(notice, json.dumps({"/subject": "Mohon konfirmasi"}), "notice.id.json")
    assert lost and "placeholders" in lost[0]
