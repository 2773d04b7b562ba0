"""The guide ("which KITAS do I need?") and the FAQ: data files beside the catalog, in both languages.

``guide.json`` is a set of questions; each option goes on to another question (``next``), ends at a
type of the catalog and one of its index codes (``result``), or ends with words of its own
(``description``: no type fits). ``faq.json`` is a list of questions and answers; an answer may name
``{placeholders}`` the pages fill in from the catalog and the fee table, so no number is typed twice.
Their Indonesian texts are ``guide.id.json`` and ``faq.id.json``, by JSON pointer (see :mod:`forms.texts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from forms.texts import LANGUAGES, SOURCE_LANGUAGE, localize, parse_texts

GUIDE_FILE = Path(__file__).with_name("guide.json")
FAQ_FILE = Path(__file__).with_name("faq.json")


@dataclass(frozen=True)
class GuideOption:
    """One answer to a guide question and where it leads: ``next`` question, a ``result``, or only words."""

    id: str
    label: str
    next: str | None = None
    kitas_type: str | None = None
    index_code: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class GuideQuestion:
    """One question of the guide and its answers."""

    id: str
    question: str
    options: tuple[GuideOption, ...]

    def option(self, option_id: str) -> GuideOption | None:
        """The answer with this id, if the question has it."""
        return next((option for option in self.options if option.id == option_id), None)


@dataclass(frozen=True)
class Guide:
    """The guide: its title, introduction, first question and every question by id."""

    title: str
    description: str
    start: str
    questions: dict[str, GuideQuestion]


@dataclass(frozen=True)
class FaqEntry:
    """One question and its answer (with ``{placeholders}``), and the page it points to, if any."""

    id: str
    question: str
    answer: str
    page: str | None = None


@dataclass(frozen=True)
class Faq:
    """The FAQ: its title and entries in order."""

    title: str
    entries: tuple[FaqEntry, ...]


def guide(language: str | None = None) -> Guide:
    """The guide in ``language`` (English without one or for a text not translated)."""
    raw = _read(GUIDE_FILE, _language(language))
    questions = {
        item["id"]: GuideQuestion(
            id=item["id"],
            question=item["question"],
            options=tuple(_option(option) for option in item["options"]),
        )
        for item in raw["questions"]
    }
    return Guide(raw["title"], raw.get("description", ""), raw["start"], questions)


def faq(language: str | None = None) -> Faq:
    """The FAQ in ``language`` (English without one or for a text not translated)."""
    raw = _read(FAQ_FILE, _language(language))
    return Faq(raw["title"], tuple(FaqEntry(**entry) for entry in raw["entries"]))


def _option(raw: dict[str, Any]) -> GuideOption:
    result = raw.get("result") or {}
    return GuideOption(
        id=raw["id"],
        label=raw["label"],
        next=raw.get("next"),
        kitas_type=result.get("type"),
        index_code=result.get("index_code"),
        description=raw.get("description"),
    )


def _language(language: str | None) -> str | None:
    return language if language in LANGUAGES and language != SOURCE_LANGUAGE else None


@lru_cache(maxsize=8)
def _read(path: Path, language: str | None) -> Any:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if language is not None:
        texts = path.with_name(f"{path.stem}.{language}.json")
        if texts.is_file():
            raw = localize(raw, parse_texts(texts.read_text(encoding="utf-8"), texts.name))
    return raw
