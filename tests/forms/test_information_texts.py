"""The guide's and the FAQ's texts (``workflows/guide.json``, ``faq.json``) are complete in Indonesian, keep
their placeholders, and name no text that is gone; the catalog's are checked in test_form_texts.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.forms.test_form_texts import texts_problems
from workflows.information import faq, guide

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.mark.parametrize("name", ["guide.json", "faq.json"])
def test_the_file_has_a_complete_indonesian_translation(name: str) -> None:
    path = WORKFLOWS / name
    texts = path.with_name(path.name.removesuffix(".json") + ".id.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert texts_problems(document, texts.read_text(encoding="utf-8"), texts.name) == []


def test_the_indonesian_guide_and_faq_are_the_same_questions_in_other_words() -> None:
    english, indonesian = guide(), guide("id")
    assert english.questions.keys() == indonesian.questions.keys() and english.start == indonesian.start
    for key, question in english.questions.items():
        other = indonesian.questions[key]
        assert [(o.id, o.next, o.kitas_type, o.index_code) for o in question.options] == [
            (o.id, o.next, o.kitas_type, o.index_code) for o in other.options
        ]
        assert question.question != other.question
    assert [e.id for e in faq().entries] == [e.id for e in faq("id").entries]
    assert all(a.answer != b.answer for a, b in zip(faq().entries, faq("id").entries, strict=True))


def test_a_translation_that_drops_a_placeholder_is_caught() -> None:
    path = WORKFLOWS / "faq.json"
    texts = json.loads(path.with_name("faq.id.json").read_text(encoding="utf-8"))
    texts["/entries/2/answer"] = texts["/entries/2/answer"].replace("{fee_highest}", "Rp 12.000.000")
    problems = texts_problems(json.loads(path.read_text(encoding="utf-8")), json.dumps(texts), "faq.id.json")
    assert problems == [f"faq.id.json: /entries/2/answer does not keep the placeholders of {faq().entries[2].answer!r}"]
