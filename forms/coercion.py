"""Turning posted HTML form text into the typed JSON values a form's schema describes.

Field names on the wire
-----------------------
A top-level field is posted under its own name (``passport_number``). A multiple choice
(``checkboxes``) posts its name once per ticked box. A row field of an array of objects is
posted as ``<field>-<index>-<name>``, e.g. ``previous_employers-0-name`` and
``previous_employers-3-start_year`` (see ``row_input_name``). Indexes need not be contiguous:
rows are rebuilt in ascending index order, blank rows are dropped and the rest renumbered
from 0, and errors are keyed by the new numbers (``previous_employers.1.name``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from forms.spec import ARRAY_OF_OBJECTS, FormField, FormSpec
from forms.texts import Message

Raw = Mapping[str, str | list[str]]
Errors = dict[str, list[str]]

WHOLE_NUMBER = Message("Enter a whole number.")
NUMBER = Message("Enter a number.")
YES_OR_NO = Message("Choose yes or no.")

_TRUE = frozenset({"on", "true", "1", "yes", "y"})
_FALSE = frozenset({"off", "false", "0", "no", "n"})
_INTEGER = re.compile(r"[+-]?\d{1,30}", re.ASCII)
_NUMBER = re.compile(r"[+-]?(\d{1,30}(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?", re.ASCII)
_MAX_ROW_INDEX = 9999

_MISSING = object()


def row_input_name(field: str, index: int, name: str) -> str:
    """The posted name of one cell of an array of objects: ``previous_employers-0-name``."""
    return f"{field}-{index}-{name}"


def coerce(form: FormSpec, raw: Raw, current: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], Errors]:
    """Convert posted text into typed data; return ``(data, errors)`` keyed by field path.

    Only the form's own fields are read. Blank text is left out (so ``required`` reports it);
    an absent checkbox is ``False``. Read-only fields are never taken from ``raw``: their
    values come from ``current`` (the data the server already holds), if it has them. A value
    that cannot be converted stays in ``data`` as the text the user typed, so the form can
    show it again, and its key gets a message in ``errors``. A list posted for a single-valued
    field counts by its last item (a hidden "false" before a checkbox works).
    """
    data: dict[str, Any] = {}
    errors: Errors = {}
    for field in form.fields:
        if field.read_only:
            if current is not None and field.name in current:
                data[field.name] = current[field.name]
            continue
        if field.widget == ARRAY_OF_OBJECTS:
            rows = _rows(field, raw, errors)
            if rows:
                data[field.name] = rows
            continue
        value, error = _coerce_value(field, raw.get(field.name))
        if value is not _MISSING:
            data[field.name] = value
        if error:
            errors[field.name] = [error]
    return data, errors


def _coerce_value(field: FormField, posted: str | list[str] | None) -> tuple[Any, str | None]:
    """Convert one field's posted text into ``(value, error)``; ``_MISSING`` when left blank."""
    if field.widget == "checkbox" and field.type == "boolean":
        text = _last(posted)
        return (text is not None and text.strip().lower() in _TRUE), None
    if field.type == "array":
        chosen = [_choice(field, t) for t in _all(posted) if t.strip()]
        return (chosen if chosen else _MISSING), None
    text = _last(posted)
    if text is None or not text.strip():
        return _MISSING, None
    if field.widget != "textarea":
        text = text.strip()
    if field.options:
        return _choice(field, text), None
    if field.type == "integer":
        return (int(text), None) if _INTEGER.fullmatch(text) else (text, WHOLE_NUMBER)
    if field.type == "number":
        return _number(text)
    if field.type == "boolean":
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE, None
        return text, YES_OR_NO
    return text, None


def _rows(field: FormField, raw: Raw, errors: Errors) -> list[dict[str, Any]]:
    """Rebuild an array of objects from its ``<field>-<index>-<name>`` inputs."""
    cells: dict[int, dict[str, str | list[str]]] = {}
    prefix = f"{field.name}-"
    names = {sub.name for sub in field.items}
    for key, posted in raw.items():
        if not key.startswith(prefix):
            continue
        number, _, name = key[len(prefix) :].partition("-")
        if number.isdigit() and number.isascii() and int(number) <= _MAX_ROW_INDEX and name in names:
            cells.setdefault(int(number), {})[name] = posted
    rows: list[dict[str, Any]] = []
    for index in sorted(cells):
        if _blank_row(field, cells[index]):
            continue
        row: dict[str, Any] = {}
        for sub in field.items:
            if sub.read_only:
                continue
            value, error = _coerce_value(sub, cells[index].get(sub.name))
            if value is not _MISSING:
                row[sub.name] = value
            if error:
                errors[f"{field.name}.{len(rows)}.{sub.name}"] = [error]
        rows.append(row)
    return rows


def _blank_row(field: FormField, cells: Mapping[str, str | list[str]]) -> bool:
    """A row is blank when nothing was typed and no box ticked (read-only cells do not count)."""
    for sub in field.items:
        if sub.read_only:
            continue
        texts = [t.strip().lower() for t in _all(cells.get(sub.name))]
        if sub.widget == "checkbox" and sub.type == "boolean":
            if texts and texts[-1] in _TRUE:
                return False
        elif any(texts):
            return False
    return True


def _choice(field: FormField, text: str) -> Any:
    """The option value whose posted form matches ``text``; unmatched text is left for validation."""
    for option in field.options:
        if option.form_value == text:
            return option.value
    return text


def _number(text: str) -> tuple[Any, str | None]:
    if not _NUMBER.fullmatch(text):
        return text, NUMBER
    if _INTEGER.fullmatch(text):
        return int(text), None
    value = float(text)
    return (value, None) if math.isfinite(value) else (text, NUMBER)


def _last(posted: str | list[str] | None) -> str | None:
    if isinstance(posted, list):
        return str(posted[-1]) if posted else None
    return posted


def _all(posted: str | list[str] | None) -> list[str]:
    if posted is None:
        return []
    return [str(t) for t in posted] if isinstance(posted, list) else [posted]
