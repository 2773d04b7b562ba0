"""Texts in two languages, kept out of the code that uses them.

Two kinds of text cross the layers:

* a :class:`Message`: a sentence a service or a form check writes, as a gettext message id (the
  English sentence, with ``%(name)s`` placeholders) and its parameters. It *is* the English text
  (a ``str``), so logs and tests read it; the web layer translates it at the edge;
* texts kept beside a data file: a form's schema, its UI schema or the catalog keep their English
  texts where they are, and ``NAME.id.json`` beside ``NAME.json`` maps JSON pointers to the
  Indonesian text (``{"/properties/full_name/title": "Nama lengkap"}``). The data still validates
  the same answers; an analyst edits a language's texts without touching the schema.
  :func:`localize` applies such a file, :func:`text_pointers` lists what one must translate.

This module imports nothing of the project.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# The languages every text exists in; the first is the one texts are written in (the message ids).
SOURCE_LANGUAGE = "en"
LANGUAGES = ("id", "en")

# The keys whose values people read: JSON Schema annotations, the UI schema's words, our own
# ``errorMessage`` texts, and the catalog's words. Every string under a key of TEXT_PARENTS is a text.
TEXT_KEYS = frozenset(
    {
        "title",
        "description",
        "ui:title",
        "ui:description",
        "ui:help",
        "ui:placeholder",
        "ui:enumNames",
        "ui:reviewTitle",  # a form's or field's words for the people who review its answers (forms.spec)
        "ui:reviewEnumNames",
        "submitText",
        "label",
        "explanation",
        "officer_explanation",
        "applicant_action",
        "subject",
        "body",
        "name_en",
        "sponsor",
        "for_whom",
        "question",
        "answer",
        "message",  # a form rule's own sentence (x-kitas-rules, see forms.rules)
    }
)
TEXT_PARENTS = frozenset({"errorMessage", "messages", "payment_providers"})
_WORD = re.compile(r"[^\W\d_]{2}")


class Message(str):
    """A sentence as a gettext message id and its parameters; ``str(message)`` is the English text.

    ``Message("Use at most %(limit)s characters.", limit=200)``. A parameter may itself be a Message
    (translated first).
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        text = msgid % params if params else msgid
        message = super().__new__(cls, text)
        message.msgid = msgid
        message.params = params
        return message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.msgid, self.params))


def _rebuild(msgid: str, params: dict[str, Any]) -> Message:
    return Message(msgid, **params)


# Lists inside a sentence, as Messages: the words between the items are translated like any text. Each
# item may be a Message (translated with the whole) or a plain string (a name, shown as it is).


def listed(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: the items of a list in a sentence (one item is itself)."""
    if len(items) < 2:
        return items[0] if items else ""
    last = Message("%(first)s and %(last)s", first=items[-2], last=items[-1])
    for item in reversed(items[:-2]):
        last = Message("%(first)s, %(rest)s", first=item, rest=last)
    return last


def joined(items: Sequence[str]) -> str:
    """``a; b; c``: separate statements (problems, reasons) in one line (one item is itself)."""
    if not items:
        return ""
    result = items[-1]
    for item in reversed(items[:-1]):
        result = Message("%(first)s; %(rest)s", first=item, rest=result)
    return result


def translated(value: Any, gettext: Any, param: Any = None) -> Any:
    """``value`` in the language of ``gettext`` (a function of one message id): a Message and its
    parameters are translated (``param`` formats any other parameter, a date say); a plain string
    (a name someone typed) is returned as it is."""
    if isinstance(value, Message):
        params = {key: _parameter(item, gettext, param) for key, item in value.params.items()}
        text = gettext(value.msgid)
        try:
            return text % params if params else text
        except (KeyError, ValueError, TypeError):  # a broken translation: the English sentence, never a crash
            return str(value)
    if isinstance(value, list):
        return [translated(item, gettext, param) for item in value]
    return value


def _parameter(value: Any, gettext: Any, param: Any) -> Any:
    if isinstance(value, (Message, list)):
        return translated(value, gettext, param)
    return param(value) if param is not None else value


def parse_texts(text: str | bytes, name: str) -> dict[str, str]:
    """A translations file: a JSON object mapping JSON pointers to texts; ValueError says what is wrong."""
    try:
        parsed = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{name}: not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{name}: must be a JSON object of pointer -> text")
    for pointer, value in parsed.items():
        if not pointer.startswith("/") or not isinstance(value, str) or not value.strip():
            raise ValueError(f'{name}: {pointer!r} must be a JSON pointer ("/...") with a text')
    return parsed


def text_pointers(document: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every (JSON pointer, text) in ``document`` that people read, in document order."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            here = f"{pointer}/{_escape(str(key))}"
            is_text = key in TEXT_KEYS or pointer.rsplit("/", 1)[-1] in TEXT_PARENTS
            if isinstance(value, str):
                if is_text and value.strip() and not _placeholder_only(value):
                    yield here, value
            elif isinstance(value, list) and is_text and all(isinstance(v, str) for v in value):
                for index, item in enumerate(value):  # ui:enumNames
                    yield f"{here}/{index}", item
            elif isinstance(value, (Mapping, list)):
                yield from text_pointers(value, here)
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from text_pointers(item, f"{pointer}/{index}")


def _placeholder_only(value: str) -> bool:
    # "A1234567", "+62 812 3456 7890": an example without a word in it reads the same in every language.
    return _WORD.search(value) is None


def localize(document: Any, texts: Mapping[str, str]) -> Any:
    """A copy of ``document`` with each pointer of ``texts`` replaced by its text (unknown ones ignored)."""
    result = copy.deepcopy(document)
    for pointer, text in texts.items():
        parts = [_unescape(p) for p in pointer.split("/")[1:]]
        target = result
        try:
            for part in parts[:-1]:
                target = target[int(part)] if isinstance(target, list) else target[part]
            last = parts[-1]
            if isinstance(target, list):
                target[int(last)] = text
            elif isinstance(target, dict) and last in target:
                target[last] = text
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    return result


def missing_texts(document: Any, texts: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(pointers whose text has no translation, translated pointers the document does not have)."""
    wanted = {pointer for pointer, _ in text_pointers(document)}
    return sorted(wanted - texts.keys()), sorted(texts.keys() - wanted)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _unescape(key: str) -> str:
    return key.replace("~1", "/").replace("~0", "~")
