"""The FAQ (``workflows/faq.json``) with the numbers its answers name filled in from where they live.

``{fee_lowest}`` and ``{fee_highest}`` come from every type's fee table (``services.fees``: the deployed
table), ``{days_fewest}`` and ``{days_most}`` from the catalog's ``typical_days``, ``{upload_limit}``
from the upload limit: a change there changes the answer, nothing is typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflows import catalog
from workflows.information import faq

from ...money import rupiah
from ..documents import megabytes, upload_limit
from ..fees import fee_table


@dataclass(frozen=True)
class FaqAnswer:
    """One question with its answer as people read it, and the page it points to."""

    id: str
    question: str
    answer: str
    page: str | None


@dataclass(frozen=True)
class FaqPage:
    """The FAQ in one language."""

    title: str
    entries: tuple[FaqAnswer, ...]


def faq_values() -> dict[str, Any]:
    """The numbers the FAQ's answers may name, from the catalog and the fee tables."""
    types = catalog().types
    amounts = [a for t in types for a in (fee_table(t.code).lowest, fee_table(t.code).highest) if a is not None]
    days = [t.typical_days for t in types if t.typical_days is not None]
    return {
        "fee_lowest": rupiah(min(amounts)) if amounts else "",
        "fee_highest": rupiah(max(amounts)) if amounts else "",
        "days_fewest": min(days) if days else "",
        "days_most": max(days) if days else "",
        "upload_limit": megabytes(upload_limit()),
    }


def faq_page(language: str | None = None) -> FaqPage:
    """Every question and answer in ``language``, the answers' numbers filled in."""
    values = faq_values()
    english = {entry.id: entry for entry in faq().entries}
    data = faq(language)
    entries = tuple(
        FaqAnswer(entry.id, entry.question, _filled(entry.answer, english[entry.id].answer, values), entry.page)
        for entry in data.entries
    )
    return FaqPage(data.title, entries)


def _filled(answer: str, english: str, values: dict[str, Any]) -> str:
    try:
        return answer.format_map(values)
    except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder: the English answer
        return english.format_map(values)
