"""The words a browser test looks for, in the language of the journey.

A journey is written once, with the English texts a person sees; ``Words("id")`` turns each into
the Indonesian text the service shows, read from the same sources the service reads: the gettext
catalog, the translations beside the forms and the catalog (``NAME.id.json``, by JSON pointer)
and the diagrams' names (``bpmn/NAME.id.json`` and the shared steps' ``bpmn/shared/NAME.id.json``,
by element id). A text with no Indonesian fails
the test (the service would show English there).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from forms.texts import text_pointers

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOG = ROOT / "kitas" / "translations" / "id" / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=1)
def _indonesian() -> dict[str, str]:
    """English text -> Indonesian text, from every source of the service's texts."""
    words: dict[str, str] = {}
    with CATALOG.open("rb") as handle:
        for message in read_po(handle, locale="id"):
            if message.id and isinstance(message.id, str) and message.string:
                words[message.id] = str(message.string)
    for texts_file in sorted([*ROOT.glob("forms/schemas/*.id.json"), *ROOT.glob("workflows/*.id.json")]):
        source = texts_file.with_name(texts_file.name.replace(".id.json", ".json"))
        translated = json.loads(texts_file.read_text(encoding="utf-8"))
        for pointer, english in text_pointers(json.loads(source.read_text(encoding="utf-8"))):
            if pointer in translated:
                words.setdefault(english, translated[pointer])
    for texts_file in sorted([*ROOT.glob("bpmn/*.id.json"), *ROOT.glob("bpmn/shared/*.id.json")]):
        translated = json.loads(texts_file.read_text(encoding="utf-8"))
        diagram = ET.parse(texts_file.with_name(texts_file.name.replace(".id.json", ".bpmn")))
        for element in diagram.iter():
            name, element_id = element.get("name"), element.get("id")
            if name and element_id and f"/{element_id}" in translated:
                words.setdefault(name, translated[f"/{element_id}"])
    return words


class Words:
    """``words("Sign in")`` in the journey's language; ``words("Pay %(amount)s", amount=...)`` fills it in."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, english: str, **params: Any) -> str:
        text = english if self.language == "en" else _indonesian().get(english)
        if text is None:
            raise AssertionError(f"the service has no Indonesian for {english!r}")
        return text % params if params else text

    def pattern(self, english: str) -> re.Pattern[str]:
        """A text with ``%(name)s`` placeholders as a pattern that matches any value in their place."""
        text = self(english)
        parts = re.split(r"%\(\w+\)s", text)
        return re.compile(".*".join(re.escape(part) for part in parts))
