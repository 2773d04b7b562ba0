"""The columns of a case row the officers' inbox filters and searches by, projected from the case data.

The unit of work's save writes them with the rest of the row, so lists never read the workflow state.
The data keys are the case-data contract every type's forms share (the permit reads the same names).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

NAME_KEY = "full_name"
PASSPORT_KEY = "passport_number"
INDEX_KEY = "index_code"
_SPACES = re.compile(r"\s+")


def name_form(text: str) -> str:
    """How a name is searched: accents kept off, lower case, single spaces (``"José  Díaz"`` -> ``jose diaz``)."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _SPACES.sub(" ", plain).strip().casefold()


def passport_form(text: str) -> str:
    """How a passport number is stored and searched: upper case, without spaces or dashes."""
    return re.sub(r"[\s\-]", "", text).upper()


def case_columns(data: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The search columns for case ``data``; only those that differ from ``current`` (the row's values)."""
    name = data.get(NAME_KEY)
    passport = data.get(PASSPORT_KEY)
    index = data.get(INDEX_KEY)
    values: dict[str, Any] = {}
    if isinstance(name, str) and name.strip():
        values["applicant_name"] = _SPACES.sub(" ", name).strip()[:200]
        values["name_search"] = name_form(name)[:200]
    if isinstance(passport, str) and passport.strip():
        values["passport_number"] = passport_form(passport)[:40]
    if isinstance(index, str) and index.strip():
        values["index_code"] = index.strip()[:16]
    if current is None:
        return values
    return {key: value for key, value in values.items() if current.get(key) != value}
