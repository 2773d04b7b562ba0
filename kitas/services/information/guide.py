"""The guide "which KITAS do I need?": the questions of ``workflows/guide.json``, one page per answer so far.

The answers travel in the address (``/guide?a=family&a=spouse_citizen``), so each page is plain
links and works without JavaScript. A path ends at a type and index code of the catalog, then asks
how long the stay is (the type's ``durations_months``) and shows the fee the fee table gives for it;
or it ends with the guide's own words when no type fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from forms.texts import Message
from workflows import IndexCode, KitasType, catalog
from workflows.information import GuideOption, guide

from ..errors import NotFound
from ..fees import FeeTable, fee_table
from .types import is_online


@dataclass(frozen=True)
class Answered:
    """A question answered on the way, with the answers before it (the link that changes this answer)."""

    question: str
    answer: str
    before: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """One answer the page offers, with the answers the link carries."""

    label: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """Where the answers point: a type, one of its index codes, the length of stay chosen and its fee."""

    kitas_type: KitasType
    index: IndexCode
    fees: FeeTable
    online: bool
    duration_months: int | None = None
    fee: int | None = None


@dataclass(frozen=True)
class GuidePage:
    """One page of the guide: what was answered, then a question with its choices, an outcome or words."""

    title: str
    description: str
    answered: tuple[Answered, ...]
    question: str | None = None
    choices: tuple[Choice, ...] = ()
    outcome: Outcome | None = None
    words: str | None = None  # the guide's own end: no type fits these answers


def guide_page(answers: Sequence[str], language: str | None = None) -> GuidePage:
    """The guide after ``answers`` (option ids in order, then a number of months); NotFound for an answer
    the question does not have."""
    data = guide(language)
    answered: list[Answered] = []
    question = data.questions[data.start]
    for position, answer in enumerate(answers):
        option = question.option(answer)
        if option is None:
            raise NotFound(Message("The guide has no answer %(answer)s to this question.", answer=answer[:40]))
        answered.append(Answered(question.question, option.label, tuple(answers[:position])))
        if option.next is not None:
            question = data.questions[option.next]
            continue
        rest = tuple(answers[position + 1 :])
        if option.kitas_type is None:
            if rest:
                raise NotFound(Message("The guide has no answer %(answer)s to this question.", answer=rest[0][:40]))
            return GuidePage(data.title, data.description, tuple(answered), words=option.description)
        return _result(data.title, data.description, answered, option, tuple(answers[: position + 1]), rest, language)
    choices = tuple(Choice(option.label, (*answers, option.id)) for option in question.options)
    return GuidePage(data.title, data.description, tuple(answered), question=question.question, choices=choices)


def _result(
    title: str,
    description: str,
    answered: list[Answered],
    option: GuideOption,
    path: tuple[str, ...],
    rest: tuple[str, ...],
    language: str | None,
) -> GuidePage:
    entry = catalog(language).by_code(option.kitas_type or "")
    index = next((code for code in entry.index_codes if code.code == option.index_code), None)
    index = index or IndexCode(entry.index_code, entry.name)
    fees = fee_table(entry.code)
    online = is_online(entry)
    how_long = Message("How long do you want to stay?")
    months_words = {str(m): Message("%(months)s months", months=m) for m in entry.durations_months}
    if len(entry.durations_months) > 1 and not rest:
        choices = tuple(Choice(words, (*path, months)) for months, words in months_words.items())
        return GuidePage(title, description, tuple(answered), question=how_long, choices=choices)
    if len(rest) > 1 or (rest and rest[0] not in months_words):
        raise NotFound(Message("The guide has no answer %(answer)s to this question.", answer=rest[-1][:40]))
    months = int(rest[0]) if rest else (entry.durations_months[0] if entry.durations_months else None)
    if rest:
        answered.append(Answered(how_long, months_words[rest[0]], path))
    fee = next(
        (row.amount for row in fees.rows if row.duration_months == months and row.index_code in (None, index.code)),
        None,
    )
    outcome = Outcome(entry, index, fees, online, months, fee)
    return GuidePage(title, description, tuple(answered), outcome=outcome)
