"""Rules JSON Schema cannot say, kept in the form files as data: ``x-kitas-rules`` on a property.

A property (or a property of an array's rows) may carry a list of rules::

    "date_of_birth": {"type": "string", "format": "date",
                      "x-kitas-rules": [{"rule": "date_in_past"}, {"rule": "age_between", "min": 16, "max": 100}]}

The vocabulary (``RULES``; ARCHITECTURE.md, *Form rules*, says the same):

* ``date_in_past``: a date before today; ``date_in_future``: a date after today;
* ``not_in_future``: a date (or a whole year) no later than today (this year);
* ``age_between`` ``min``, ``max``: a date of birth giving an age in years within the bounds today;
* ``valid_months_after`` ``field``, ``months_from``: on a number of months (the stay), the date in
  ``field`` (this form's or an earlier answer of the case) must fall at least this many months plus
  ``months_from`` months after today (the passport outlasts the stay);
* ``in_order`` ``from``, ``to``: on an array of rows, each row's ``from`` is no later than its ``to``;
* ``after`` ``field``: on a date, later than the date in ``field`` (this form's or an earlier answer);
* ``one_of`` ``values``: the value is one of a list (``"catalog:NAME"``: a list of the catalog, the
  lengths of stay a type offers), so a choice the type does not offer is refused in plain words;
* ``at_least`` ``value``: a number no lower than ``value`` (the investment minimum);
* ``covers_period`` ``from``, ``to``: on a number of months (the stay), counted from the later of today
  and the date in ``from``, the stay reaches the date in ``to`` (the stay covers the studies);
* ``image`` ``formats``, ``min_bytes``, ``max_bytes``, ``min_width``, ``min_height``,
  ``min_edge_lightness``: on a file field, what an uploaded picture must be (checked when the file
  arrives, see :func:`file_errors`); the last is how light its edges must be (0-255): a white background.

A number (or the list of ``one_of``) may be written ``"catalog:NAME"``: the caller hands the value in
(``RuleContext.values``: the KITAS type's ``rule_values`` and its own lists, ``durations_months``).
A rule may carry its own ``message`` (a text of the form file, translated in ``NAME.id.json``), with
the same placeholders as the built-in sentence.

This module imports nothing of the project; the day is handed in (``RuleContext.today``).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from forms.spec import ARRAY_OF_OBJECTS, FormField, FormSpec
from forms.texts import Message

RULES_KEYWORD = "x-kitas-rules"
CATALOG_PREFIX = "catalog:"

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class RuleContext:
    """What rules are checked against: today, the catalog's numbers, and the case's earlier answers."""

    today: date
    values: Mapping[str, Any] = field(default_factory=dict)
    answers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileFacts:
    """What the upload checks found out about a file: its format (``jpeg``, ``png``, ``pdf``), size, pixels."""

    format: str
    size: int
    width: int | None = None
    height: int | None = None
    # How light the picture's edges are (its background), 0 black to 255 white, for a picture.
    edge_lightness: float | None = None


# Each rule: its parameters (those naming a field, those that are numbers) and where it applies.
@dataclass(frozen=True)
class _Rule:
    fields: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    optional_numbers: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    on: str = "value"  # value | rows | file


RULES: dict[str, _Rule] = {
    "date_in_past": _Rule(),
    "date_in_future": _Rule(),
    "not_in_future": _Rule(),
    "age_between": _Rule(numbers=("min", "max")),
    "valid_months_after": _Rule(fields=("field",), numbers=("months_from",)),
    "in_order": _Rule(fields=("from", "to"), on="rows"),
    "after": _Rule(fields=("field",)),
    "one_of": _Rule(lists=("values",)),
    "at_least": _Rule(numbers=("value",)),
    "covers_period": _Rule(fields=("from", "to")),
    "image": _Rule(
        optional_numbers=("min_bytes", "max_bytes", "min_width", "min_height", "min_edge_lightness"), on="file"
    ),
}


def rules_of(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The rules a property declares (``[]`` when it declares none)."""
    found = schema.get(RULES_KEYWORD)
    return [rule for rule in found if isinstance(rule, Mapping)] if isinstance(found, list) else []


def check_rules(form: FormSpec, answers: Iterable[str] = (), values: Mapping[str, Any] | None = None) -> list[str]:
    """Every problem of the form's rules, naming the field: an unknown rule, a missing parameter, a
    field that does not exist (``answers`` are the other fields of the case a rule may name), a catalog
    number that does not exist (``values``; not checked when None)."""
    known = {f.name for f in form.fields} | set(answers)
    problems: list[str] = []
    for item, path in _all_fields(form.fields):
        declared = item.schema.get(RULES_KEYWORD)
        if declared is not None and not isinstance(declared, list):
            problems.append(
                Message("%(field)s: %(keyword)s must be a list of rules", field=path, keyword=RULES_KEYWORD)
            )
            continue
        for rule in declared or ():
            problems.extend(_check_rule(item, path, rule, known, values))
    return problems


def _check_rule(item: FormField, path: str, rule: Any, known: set[str], values: Mapping[str, Any] | None) -> list[str]:
    name = rule.get("rule") if isinstance(rule, Mapping) else None
    spec = RULES.get(name) if isinstance(name, str) else None
    if spec is None:
        return [
            Message(
                "%(field)s: unknown rule %(rule)r (known: %(known)s)", field=path, rule=name, known=", ".join(RULES)
            )
        ]
    problems: list[str] = []
    row_names = {sub.name for sub in item.items}
    for param in spec.fields:
        target = rule.get(param)
        where = row_names if spec.on == "rows" else known
        if not isinstance(target, str) or target not in where:
            problems.append(
                Message(
                    "%(field)s: rule %(rule)s names the field %(target)r, which does not exist",
                    field=path,
                    rule=name,
                    target=target,
                )
            )
    for param in spec.numbers + spec.optional_numbers:
        if param not in rule and param in spec.optional_numbers:
            continue
        number = rule.get(param)
        if isinstance(number, str) and number.startswith(CATALOG_PREFIX):
            if values is not None and not isinstance(values.get(number[len(CATALOG_PREFIX) :]), (int, float)):
                problems.append(
                    Message(
                        "%(field)s: rule %(rule)s names %(value)r, which the catalog does not have",
                        field=path,
                        rule=name,
                        value=number,
                    )
                )
        elif not isinstance(number, (int, float)) or isinstance(number, bool):
            problems.append(
                Message("%(field)s: rule %(rule)s needs a number %(param)s", field=path, rule=name, param=param)
            )
    for param in spec.lists:
        problems.extend(_check_list(path, str(name), param, rule.get(param), values))
    if spec.on == "rows" and item.widget != ARRAY_OF_OBJECTS:
        problems.append(Message("%(field)s: rule %(rule)s applies to a list of rows", field=path, rule=name))
    if spec.on == "file" and item.widget != "file":
        problems.append(Message("%(field)s: rule %(rule)s applies to a file field", field=path, rule=name))
    if "message" in rule and not isinstance(rule["message"], str):
        problems.append(Message("%(field)s: the message of rule %(rule)s must be a text", field=path, rule=name))
    return problems


def _check_list(path: str, name: str, param: str, given: Any, values: Mapping[str, Any] | None) -> list[str]:
    """A list parameter is a non-empty list of numbers or texts, or names one of the catalog."""
    if isinstance(given, str) and given.startswith(CATALOG_PREFIX):
        if values is not None and not _is_choices(values.get(given[len(CATALOG_PREFIX) :])):
            return [
                Message(
                    "%(field)s: rule %(rule)s names %(value)r, which the catalog does not have as a list",
                    field=path,
                    rule=name,
                    value=given,
                )
            ]
        return []
    if not _is_choices(given):
        return [Message("%(field)s: rule %(rule)s needs a list %(param)s", field=path, rule=name, param=param)]
    return []


def _is_choices(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value)
    )


def _all_fields(fields: Iterable[FormField], prefix: str = "") -> Iterable[tuple[FormField, str]]:
    for item in fields:
        yield item, prefix + item.name
        if item.items:
            yield from _all_fields(item.items, f"{prefix}{item.name}[].")


def rule_errors(form: FormSpec, data: Mapping[str, Any], context: RuleContext) -> Errors:
    """The errors the form's rules find in ``data``, keyed by field path (``previous_employers.0.to_year``).

    A value that is missing or not of its type is left to the schema's own checks."""
    errors: Errors = {}
    for item in form.fields:
        for rule in rules_of(item.schema):
            _apply(item, item.name, data.get(item.name), rule, data, context, errors)
        rows = data.get(item.name)
        if item.items and isinstance(rows, list):
            for index, row in enumerate(rows):
                if not isinstance(row, Mapping):
                    continue
                for sub in item.items:
                    for rule in rules_of(sub.schema):
                        _apply(sub, f"{item.name}.{index}.{sub.name}", row.get(sub.name), rule, row, context, errors)
    return errors


def _apply(
    item: FormField,
    key: str,
    value: Any,
    rule: Mapping[str, Any],
    data: Mapping[str, Any],
    context: RuleContext,
    errors: Errors,
) -> None:
    check = _CHECKS.get(str(rule.get("rule")))
    if check is None or value in (None, "", []):
        return
    found = check(value, rule, data, context)
    for where, message in found:
        errors.setdefault(f"{key}.{where}" if where else key, []).append(message)


def _custom(rule: Mapping[str, Any], default: Message) -> Message:
    text = rule.get("message")
    return Message(text, **default.params) if isinstance(text, str) and text.strip() else default


def _number(rule: Mapping[str, Any], param: str, context: RuleContext) -> float | None:
    value = rule.get(param)
    if isinstance(value, str) and value.startswith(CATALOG_PREFIX):
        value = context.values.get(value[len(CATALOG_PREFIX) :])
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _choices(rule: Mapping[str, Any], param: str, context: RuleContext) -> list[Any] | None:
    given = rule.get(param)
    if isinstance(given, str) and given.startswith(CATALOG_PREFIX):
        given = context.values.get(given[len(CATALOG_PREFIX) :])
    return list(given) if isinstance(given, (list, tuple)) and _is_choices(given) else None


def parse_date(value: Any) -> date | None:
    """An ISO date (``2026-01-31``) as a date; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, kept within the month (31 January + 1 month is 28/29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def age_on(born: date, today: date) -> int:
    """Whole years between ``born`` and ``today``."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


Found = list[tuple[str, Message]]


def _date_in_past(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    day = parse_date(value)
    if day is None or day < context.today:
        return []
    return [("", _custom(rule, Message("Enter a date in the past.")))]


def _date_in_future(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    day = parse_date(value)
    if day is None or day > context.today:
        return []
    return [("", _custom(rule, Message("Enter a date after today.")))]


def _not_in_future(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= context.today.year:
            return []
        return [("", _custom(rule, Message("Enter a year no later than %(year)s.", year=context.today.year)))]
    day = parse_date(value)
    if day is None or day <= context.today:
        return []
    return [("", _custom(rule, Message("Enter a date that is not in the future.")))]


def _age_between(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    born = parse_date(value)
    low, high = _number(rule, "min", context), _number(rule, "max", context)
    if born is None or low is None or high is None or born >= context.today:
        return []  # a birth date not in the past is date_in_past's to say
    age = age_on(born, context.today)
    if low <= age <= high:
        return []
    message = Message(
        "This date gives an age of %(age)s; an applicant must be %(min)s to %(max)s years old. Check the year.",
        age=age,
        min=int(low),
        max=int(high),
    )
    return [("", _custom(rule, message))]


def _valid_months_after(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    target = str(rule.get("field"))
    answer = data.get(target, context.answers.get(target))
    until = parse_date(answer)
    beyond = _number(rule, "months_from", context)
    if until is None or beyond is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return []
    needed = add_months(context.today, int(value) + int(beyond))
    if until >= needed:
        return []
    message = Message(
        "For this stay the passport must be valid until at least %(needed)s (%(beyond)s months after the stay "
        "ends); it is valid until %(until)s. Choose a shorter stay, or renew the passport and correct its "
        "expiry date.",
        needed=needed,
        beyond=int(beyond),
        until=until,
    )
    return [("", _custom(rule, message))]


def _in_order(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    if not isinstance(value, list):
        return []
    first, last = str(rule.get("from")), str(rule.get("to"))
    found: Found = []
    for index, row in enumerate(value):
        if not isinstance(row, Mapping):
            continue
        start, end = row.get(first), row.get(last)
        if isinstance(start, str) and isinstance(end, str):
            start, end = parse_date(start), parse_date(end)
        if start is None or end is None or type(start) is not type(end) or isinstance(start, bool):
            continue
        if start > end:
            message = Message("The end comes before the start; check both.")
            found.append((f"{index}.{last}", _custom(rule, message)))
    return found


def _after(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    target = str(rule.get("field"))
    day, other = parse_date(value), parse_date(data.get(target, context.answers.get(target)))
    if day is None or other is None or day > other:
        return []
    return [("", _custom(rule, Message("Enter a date after %(date)s.", date=other)))]


def _one_of(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    allowed = _choices(rule, "values", context)
    if allowed is None or value in allowed:
        return []
    shown = ", ".join(str(v) for v in allowed)
    message = Message("%(value)s is not offered here; choose one of %(values)s.", value=value, values=shown)
    return [("", _custom(rule, message))]


def _at_least(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    low = _number(rule, "value", context)
    if low is None or not isinstance(value, (int, float)) or isinstance(value, bool) or value >= low:
        return []
    message = Message("Enter at least %(minimum)s.", minimum=grouped(low), value=grouped(value))
    return [("", _custom(rule, message))]


def grouped(number: float) -> str:
    """A number with its thousands grouped by dots, as rupiah are written in both languages: ``10.000.000``."""
    return f"{int(number):,}".replace(",", ".") if float(number).is_integer() else str(number)


def _covers_period(value: Any, rule: Mapping[str, Any], data: Mapping[str, Any], context: RuleContext) -> Found:
    first, last = str(rule.get("from")), str(rule.get("to"))
    start = parse_date(data.get(first, context.answers.get(first)))
    end = parse_date(data.get(last, context.answers.get(last)))
    if start is None or end is None or not isinstance(value, int) or isinstance(value, bool):
        return []
    begins = max(start, context.today)
    ends = add_months(begins, value)
    if ends >= end:
        return []
    message = Message(
        "A stay of %(months)s months from %(start)s ends on %(ends)s, before the period ends on %(end)s. "
        "Choose a longer stay.",
        months=value,
        start=begins,
        ends=ends,
        end=end,
    )
    return [("", _custom(rule, message))]


_CHECKS: dict[str, Callable[[Any, Mapping[str, Any], Mapping[str, Any], RuleContext], Found]] = {
    "date_in_past": _date_in_past,
    "date_in_future": _date_in_future,
    "not_in_future": _not_in_future,
    "age_between": _age_between,
    "valid_months_after": _valid_months_after,
    "in_order": _in_order,
    "after": _after,
    "one_of": _one_of,
    "at_least": _at_least,
    "covers_period": _covers_period,
}


def choice_errors(form: FormSpec, data: Mapping[str, Any], keys: Iterable[str], context: RuleContext) -> Errors:
    """The ``one_of`` errors of the top-level fields ``keys`` whose value the schema refused as not a choice:
    the rule says which choices the type offers, which "choose one of the options" cannot."""
    errors: Errors = {}
    for key in keys:
        item = form.field(key)
        if item is None or key not in data:
            continue
        for rule in rules_of(item.schema):
            if rule.get("rule") == "one_of":
                for where, message in _one_of(data[key], rule, data, context):
                    errors.setdefault(f"{key}.{where}" if where else key, []).append(message)
    return errors


def file_rules(form: FormSpec | None) -> dict[str, list[Mapping[str, Any]]]:
    """The ``image`` rules of each file field of a form, by field name."""
    if form is None:
        return {}
    found = {
        f.name: [r for r in rules_of(f.schema) if r.get("rule") == "image"] for f in form.fields if f.widget == "file"
    }
    return {name: rules for name, rules in found.items() if rules}


def file_errors(rules: Iterable[Mapping[str, Any]], facts: FileFacts, context: RuleContext | None = None) -> list[str]:
    """What is wrong with an uploaded file for the field's ``image`` rules, one sentence each."""
    numbers = context or RuleContext(today=date.min)
    problems: list[str] = []
    for rule in rules:
        if rule.get("rule") != "image":
            continue
        formats = [str(f).lower() for f in rule.get("formats") or ()]
        if formats and facts.format.lower() not in formats:
            problems.append(
                _custom(
                    rule, Message("Upload this picture as %(formats)s.", formats=", ".join(f.upper() for f in formats))
                )
            )
            continue
        low, high = _number(rule, "min_bytes", numbers), _number(rule, "max_bytes", numbers)
        if (low is not None and facts.size < low) or (high is not None and facts.size > high):
            problems.append(
                _custom(
                    rule,
                    Message(
                        "The picture is %(size)s kB; it must be between %(low)s kB and %(high)s kB.",
                        size=round(facts.size / 1000),
                        low=round((low or 0) / 1000),
                        high=round(high / 1000) if high is not None else "-",
                    ),
                )
            )
        width, height = _number(rule, "min_width", numbers), _number(rule, "min_height", numbers)
        if (
            facts.width is not None
            and facts.height is not None
            and ((width is not None and facts.width < width) or (height is not None and facts.height < height))
        ):
            problems.append(
                _custom(
                    rule,
                    Message(
                        "The picture is %(width)s x %(height)s pixels; it must be at least %(min_width)s x "
                        "%(min_height)s pixels.",
                        width=facts.width,
                        height=facts.height,
                        min_width=int(width or 0),
                        min_height=int(height or 0),
                    ),
                )
            )
        lightness = _number(rule, "min_edge_lightness", numbers)
        if lightness is not None and facts.edge_lightness is not None and facts.edge_lightness < lightness:
            problems.append(
                _custom(
                    rule,
                    Message(
                        "The background of the picture is not white. Take the photo in front of a plain white "
                        "background, with nothing else around you."
                    ),
                )
            )
    return problems
