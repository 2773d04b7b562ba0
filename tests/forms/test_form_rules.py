"""The rules JSON Schema cannot say, as data in the form files (``x-kitas-rules``): each with good and bad input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import forms
from forms.rules import add_months, age_on
from forms.texts import Message

TODAY = date(2026, 3, 15)


def _form(**properties: Any) -> forms.FormSpec:
    return forms.FormSpec("test", {"type": "object", "properties": properties})


def _errors(form: forms.FormSpec, data: dict[str, Any], **context: Any) -> dict[str, list[str]]:
    return forms.validate(form, data, forms.RuleContext(today=TODAY, **context))


BIRTH = _form(
    born={
        "type": "string",
        "format": "date",
        "title": "Born",
        "x-kitas-rules": [{"rule": "date_in_past"}, {"rule": "age_between", "min": 16, "max": 100}],
    }
)


@pytest.mark.parametrize("born", ["1990-04-02", "2010-03-15", "1926-03-16"])
def test_a_plausible_birth_date_passes(born: str) -> None:
    assert _errors(BIRTH, {"born": born}) == {}


def test_a_birth_date_today_or_later_is_refused() -> None:
    assert _errors(BIRTH, {"born": "2026-03-15"}) == {"born": ["Enter a date in the past."]}
    assert _errors(BIRTH, {"born": "2030-01-01"}) == {"born": ["Enter a date in the past."]}


def test_an_implausible_age_is_refused_with_the_age() -> None:
    (message,) = _errors(BIRTH, {"born": "2010-03-16"})["born"]
    assert isinstance(message, Message) and message.params == {"age": 15, "min": 16, "max": 100}
    assert _errors(BIRTH, {"born": "1900-01-01"})["born"][0].params["age"] == 126


def test_rules_are_checked_only_with_a_context_and_after_the_schema() -> None:
    assert forms.validate(BIRTH, {"born": "2030-01-01"}) == {}
    assert _errors(BIRTH, {"born": "not a date"}) == {"born": ["Enter a real date as YYYY-MM-DD."]}


def test_date_in_future_and_not_in_future() -> None:
    form = _form(
        expires={"type": "string", "format": "date", "x-kitas-rules": [{"rule": "date_in_future"}]},
        started={"type": "string", "format": "date", "x-kitas-rules": [{"rule": "not_in_future"}]},
        year={"type": "integer", "x-kitas-rules": [{"rule": "not_in_future"}]},
    )
    assert _errors(form, {"expires": "2026-03-16", "started": "2026-03-15", "year": 2026}) == {}
    errors = _errors(form, {"expires": "2026-03-15", "started": "2026-03-16", "year": 2027})
    assert errors == {
        "expires": ["Enter a date after today."],
        "started": ["Enter a date that is not in the future."],
        "year": ["Enter a year no later than 2026."],
    }


STAY = _form(
    months={
        "type": "integer",
        "x-kitas-rules": [{"rule": "valid_months_after", "field": "passport_expiry", "months_from": "catalog:beyond"}],
    }
)


def test_the_passport_must_outlast_the_stay_by_the_catalogs_months() -> None:
    answers = {"passport_expiry": "2027-09-15"}  # an earlier form's answer
    assert _errors(STAY, {"months": 12}, values={"beyond": 6}, answers=answers) == {}
    (message,) = _errors(STAY, {"months": 12}, values={"beyond": 7}, answers=answers)["months"]
    assert message.params == {"needed": date(2027, 10, 15), "beyond": 7, "until": date(2027, 9, 15)}
    assert "valid until at least 2027-10-15" in message


def test_a_rule_message_from_the_form_file_keeps_the_placeholders() -> None:
    form = _form(
        months={
            "type": "integer",
            "x-kitas-rules": [
                {"rule": "valid_months_after", "field": "until", "months_from": 0, "message": "Until %(needed)s."}
            ],
        },
        until={"type": "string", "format": "date"},
    )
    assert _errors(form, {"months": 1, "until": "2026-03-20"}) == {"months": ["Until 2026-04-15."]}


ROWS = _form(
    jobs={
        "type": "array",
        "x-kitas-rules": [{"rule": "in_order", "from": "start", "to": "end"}],
        "items": {
            "type": "object",
            "properties": {
                "start": {"type": "integer", "x-kitas-rules": [{"rule": "not_in_future"}]},
                "end": {"type": "integer", "x-kitas-rules": [{"rule": "not_in_future"}]},
            },
        },
    }
)


def test_ranges_in_rows_in_order_and_not_in_the_future() -> None:
    assert _errors(ROWS, {"jobs": [{"start": 2015, "end": 2025}, {"start": 2010, "end": 2010}]}) == {}
    errors = _errors(ROWS, {"jobs": [{"start": 2020, "end": 2018}, {"start": 2024, "end": 2028}]})
    assert errors == {
        "jobs.0.end": ["The end comes before the start; check both."],
        "jobs.1.end": ["Enter a year no later than 2026."],
    }


PHOTO = _form(
    photo={
        "type": "string",
        "format": "kitas-document",
        "x-kitas-rules": [
            {
                "rule": "image",
                "formats": ["jpeg"],
                "min_bytes": 10000,
                "max_bytes": 2000000,
                "min_width": 300,
                "min_height": 400,
            }
        ],
    }
)


def test_photo_rules() -> None:
    rules = forms.file_rules(PHOTO)["photo"]
    assert forms.file_errors(rules, forms.FileFacts("jpeg", 50_000, 320, 400)) == []
    assert forms.file_errors(rules, forms.FileFacts("png", 50_000, 320, 400)) == ["Upload this picture as JPEG."]
    assert forms.file_errors(rules, forms.FileFacts("jpeg", 5_000, 320, 400)) == [
        "The picture is 5 kB; it must be between 10 kB and 2000 kB."
    ]
    assert forms.file_errors(rules, forms.FileFacts("jpeg", 50_000, 64, 48)) == [
        "The picture is 64 x 48 pixels; it must be at least 300 x 400 pixels."
    ]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"rule": "date_in_the_past"}, "born: unknown rule 'date_in_the_past'"),
        ({"rule": "age_between", "min": 16}, "born: rule age_between needs a number max"),
        (
            {"rule": "valid_months_after", "field": "nowhere", "months_from": 6},
            "born: rule valid_months_after names the field 'nowhere'",
        ),
        ({"rule": "valid_months_after", "field": "other", "months_from": "catalog:nothing"}, "names 'catalog:nothing'"),
        ({"rule": "in_order", "from": "a", "to": "b"}, "born: rule in_order applies to a list of rows"),
        ({"rule": "image"}, "born: rule image applies to a file field"),
    ],
)
def test_bad_rules_are_named_with_their_field(rule: dict[str, Any], problem: str) -> None:
    form = _form(born={"type": "string", "format": "date", "title": "Born", "x-kitas-rules": [rule]})
    problems = forms.check_rules(form, answers={"other"}, values={"beyond": 6})
    assert any(problem in p for p in problems), problems


def test_the_shipped_forms_rules_are_sound() -> None:
    from pathlib import Path

    folder = Path(__file__).parents[2] / "forms" / "schemas"
    loaded = [forms.load_form(path.read_text(), None, path.name) for path in sorted(folder.glob("*.schema.json"))]
    answers = {f.name for form in loaded for f in form.fields}
    from workflows import catalog

    values = {name: value for t in catalog().types for name, value in t.named_values().items()}
    for form in loaded:
        assert forms.check_rules(form, answers, values) == [], form.name


def test_months_and_ages() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)
    assert age_on(date(2000, 3, 16), TODAY) == 25 and age_on(date(2000, 3, 15), TODAY) == 26


def test_a_rules_own_message_is_a_text_to_translate_beside_the_form() -> None:
    from forms.texts import localize, text_pointers

    schema = {"properties": {"born": {"x-kitas-rules": [{"rule": "date_in_past", "message": "Born before today."}]}}}
    pointer = "/properties/born/x-kitas-rules/0/message"
    assert (pointer, "Born before today.") in list(text_pointers(schema))
    form = forms.FormSpec("test", localize(schema, {pointer: "Lahir sebelum hari ini."}))
    assert forms.validate(form, {"born": "2030-01-01"}, forms.RuleContext(today=TODAY)) == {
        "born": ["Lahir sebelum hari ini."]
    }


STAY_CHOICE = _form(
    months={
        "type": "integer",
        "enum": [6, 12, 24, 48],
        "x-kitas-rules": [{"rule": "one_of", "values": "catalog:durations_months"}],
    },
    level={"type": "string", "x-kitas-rules": [{"rule": "one_of", "values": ["school", "university"]}]},
)


def test_one_of_refuses_a_choice_the_type_does_not_offer_naming_the_offered_ones() -> None:
    offered = {"durations_months": [12, 24]}
    assert _errors(STAY_CHOICE, {"months": 12, "level": "school"}, values=offered) == {}
    # In the form's options but not offered for the type (the catalog changed): the rule says which are.
    (message,) = _errors(STAY_CHOICE, {"months": 48}, values=offered)["months"]
    assert message == "48 is not offered here; choose one of 12, 24."
    assert message.params == {"value": 48, "values": "12, 24"}
    # Not even among the form's options: the rule's words instead of "choose one of the options".
    assert _errors(STAY_CHOICE, {"months": 36}, values=offered) == {
        "months": ["36 is not offered here; choose one of 12, 24."]
    }
    assert _errors(STAY_CHOICE, {"level": "kindergarten"}) == {
        "level": ["kindergarten is not offered here; choose one of school, university."]
    }
    # A choice the catalog offers but the form does not list stays the schema's own refusal.
    assert _errors(STAY_CHOICE, {"months": 36}, values={"durations_months": [36]}) == {
        "months": ["Choose one of the options."]
    }


def test_at_least_with_a_number_of_the_catalog() -> None:
    form = _form(shares={"type": "integer", "x-kitas-rules": [{"rule": "at_least", "value": "catalog:minimum"}]})
    assert _errors(form, {"shares": 10_000_000_000}, values={"minimum": 10_000_000_000}) == {}
    (message,) = _errors(form, {"shares": 9_999_999_999}, values={"minimum": 10_000_000_000})["shares"]
    assert message == "Enter at least 10.000.000.000."
    assert message.params == {"minimum": "10.000.000.000", "value": "9.999.999.999"}


STUDY = _form(
    start={"type": "string", "format": "date"},
    end={"type": "string", "format": "date", "x-kitas-rules": [{"rule": "after", "field": "start"}]},
    months={"type": "integer", "x-kitas-rules": [{"rule": "covers_period", "from": "start", "to": "end"}]},
)


def test_after_orders_two_dates_of_the_form() -> None:
    assert _errors(STUDY, {"start": "2026-08-01", "end": "2027-06-30"}) == {}
    assert _errors(STUDY, {"start": "2026-08-01", "end": "2026-08-01"}) == {"end": ["Enter a date after 2026-08-01."]}
    assert _errors(STUDY, {"start": "2026-08-01", "end": "2025-06-30"}) == {"end": ["Enter a date after 2026-08-01."]}


def test_covers_period_counts_the_stay_from_the_later_of_today_and_the_start() -> None:
    # Studies from 1 August 2026 to 31 July 2027: 12 months from the start reach 1 August 2027.
    assert _errors(STUDY, {"start": "2026-08-01", "end": "2027-07-31", "months": 12}) == {}
    (message,) = _errors(STUDY, {"start": "2026-08-01", "end": "2028-06-30", "months": 12})["months"]
    assert message.params == {
        "months": 12,
        "start": date(2026, 8, 1),
        "ends": date(2027, 8, 1),
        "end": date(2028, 6, 30),
    }
    # Studies that began before today: the stay starts today (15 March 2026), so 12 months end 15 March 2027.
    assert _errors(STUDY, {"start": "2025-09-01", "end": "2027-03-15", "months": 12}) == {}
    assert list(_errors(STUDY, {"start": "2025-09-01", "end": "2027-03-16", "months": 12})) == ["months"]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"rule": "one_of"}, "born: rule one_of needs a list values"),
        ({"rule": "one_of", "values": []}, "born: rule one_of needs a list values"),
        ({"rule": "one_of", "values": "catalog:beyond"}, "names 'catalog:beyond', which the catalog does not have as"),
        ({"rule": "at_least", "value": "ten"}, "born: rule at_least needs a number value"),
        ({"rule": "after", "field": "nowhere"}, "born: rule after names the field 'nowhere'"),
        ({"rule": "covers_period", "from": "other", "to": "nowhere"}, "rule covers_period names the field 'nowhere'"),
    ],
)
def test_bad_new_rules_are_named_with_their_field(rule: dict[str, Any], problem: str) -> None:
    form = _form(born={"type": "string", "format": "date", "title": "Born", "x-kitas-rules": [rule]})
    problems = forms.check_rules(form, answers={"other"}, values={"beyond": 6, "durations_months": [12]})
    assert any(problem in p for p in problems), problems


def test_a_photo_needs_its_light_background() -> None:
    rules = [
        {"rule": "image", "formats": ["jpeg"], "min_bytes": 100_000, "max_bytes": 200_000, "min_edge_lightness": 220}
    ]
    assert forms.file_errors(rules, forms.FileFacts("jpeg", 120_000, 420, 520, edge_lightness=250.0)) == []
    assert forms.file_errors(rules, forms.FileFacts("jpeg", 120_000, 420, 520, edge_lightness=127.4)) == [
        "The background of the picture is not white. Take the photo in front of a plain white background, with "
        "nothing else around you."
    ]
    # 100 to 200 kB, as the student checklist asks: the worker's 93 kB photo is too small for it.
    assert forms.file_errors(rules, forms.FileFacts("jpeg", 93_000, 320, 400, edge_lightness=250.0)) == [
        "The picture is 93 kB; it must be between 100 kB and 200 kB."
    ]
