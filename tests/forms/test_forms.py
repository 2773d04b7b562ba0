"""Forms: loading and checking form files, field helpers, coercion of posted text, validation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from forms import (
    FormError,
    FormSpec,
    check_form,
    checked_email,
    coerce,
    known_data,
    load_form,
    row_input_name,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "forms"
SHIPPED = ROOT / "forms" / "schemas"


def read_form(directory: Path, schema_file: str, *, check: bool = True) -> FormSpec:
    """Load a form from its files as a deployment does: the schema text, and its UI schema text if there is one."""
    ui_path = directory / schema_file.replace(".schema.json", ".uischema.json")
    ui_text = ui_path.read_text(encoding="utf-8") if ui_path.is_file() else None
    return load_form((directory / schema_file).read_text(encoding="utf-8"), ui_text, schema_file, check=check)


@pytest.fixture(scope="module")
def form() -> FormSpec:
    """The sample application form, with every kind of field."""
    return read_form(DATA, "sample-application.schema.json")


def good_post(**changes: Any) -> dict[str, Any]:
    """A posted sample application that passes; keyword arguments replace or (None) remove inputs."""
    post: dict[str, Any] = {
        "full_name": "Ada Lovelace",
        "passport_number": "A1234567",
        "birth_date": "1990-12-10",
        "email": "ada@example.com",
        "stay_months": "12",
        "sponsor_type": "company",
        "passport_scan": "doc-7f3a",
        "declaration": "on",
    }
    return _changed(post, changes)


def good_data(**changes: Any) -> dict[str, Any]:
    """Typed sample application data that passes; keyword arguments replace or (None) remove keys."""
    data, errors = coerce(_sample(), good_post())
    assert errors == {}
    return _changed(data, changes)


def _changed(values: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``values`` with ``changes`` applied, a change to None removing the key."""
    return {key: value for key, value in {**values, **changes}.items() if value is not None}


def _sample() -> FormSpec:
    return read_form(DATA, "sample-application.schema.json")


# --- fields ------------------------------------------------------------------------------


def test_fields_follow_ui_order_with_wildcard(form: FormSpec) -> None:
    assert [f.name for f in form.fields] == [
        "application_number",
        "full_name",
        "passport_number",
        "birth_date",
        "email",
        "stay_months",
        "sponsor_type",
        "dependants",
        "monthly_salary_usd",
        "languages",
        "passport_scan",
        "has_previous_visa",
        "previous_visa_reason",
        "previous_employers",
        "declaration",
    ]
    employers = form.field("previous_employers")
    assert employers is not None
    assert [sub.name for sub in employers.items] == ["name", "start_year", "current"]


def test_widgets_come_from_ui_schema_or_type(form: FormSpec) -> None:
    assert {f.name: f.widget for f in form.fields} == {
        "application_number": "text",
        "full_name": "text",
        "passport_number": "text",
        "birth_date": "date",
        "email": "email",
        "stay_months": "select",
        "sponsor_type": "radio",
        "dependants": "integer",
        "monthly_salary_usd": "number",
        "languages": "checkboxes",
        "passport_scan": "file",
        "has_previous_visa": "checkbox",
        "previous_visa_reason": "textarea",
        "previous_employers": "array-of-objects",
        "declaration": "checkbox",
    }
    employers = form.field("previous_employers")
    assert employers is not None
    assert [sub.widget for sub in employers.items] == ["text", "integer", "checkbox"]


def test_titles_required_and_read_only(form: FormSpec) -> None:
    assert form.title == "Sample application"
    passport = form.field("passport_number")
    assert passport is not None and passport.title == "Passport number"
    assert passport.required and passport.help and "A1234567" in passport.help
    assert not form.field("dependants").required  # type: ignore[union-attr]
    assert form.field("application_number").read_only  # type: ignore[union-attr]
    row_name = form.field_at(["previous_employers", 0, "name"])
    assert row_name is not None and row_name.required and row_name.title == "Employer name"


def test_option_labels_from_one_of_and_enum_names(form: FormSpec) -> None:
    stay = form.field("stay_months")
    sponsor = form.field("sponsor_type")
    languages = form.field("languages")
    assert stay and sponsor and languages
    assert [(o.value, o.label, o.form_value) for o in stay.options] == [
        (6, "6 months", "6"),
        (12, "1 year", "12"),
        (24, "2 years", "24"),
    ]
    assert [(o.value, o.label) for o in sponsor.options] == [
        ("company", "A company"),
        ("family", "A family member"),
    ]
    assert [o.label for o in languages.options] == ["Indonesian", "English", "Chinese"]


def test_enum_without_names_shows_values_and_titles_fall_back_to_names() -> None:
    spec = FormSpec(
        "plain",
        {
            "type": "object",
            "properties": {
                "visa_type": {"type": "string", "enum": ["KITAS", "KITAP"]},
                "is_urgent": {"type": "boolean"},
            },
        },
        {"is_urgent": {"ui:widget": "radio"}},
    )
    visa, urgent = spec.fields
    assert [o.label for o in visa.options] == ["KITAS", "KITAP"]
    assert visa.title == "Visa type"
    assert urgent.widget == "radio"
    assert [(o.value, o.label, o.form_value) for o in urgent.options] == [
        (True, "Yes", "true"),
        (False, "No", "false"),
    ]


# --- coercion ----------------------------------------------------------------------------


def test_good_post_coerces_to_typed_data(form: FormSpec) -> None:
    data, errors = coerce(form, good_post(dependants="2", monthly_salary_usd="1500.50", languages=["en", "id"]))
    assert errors == {}
    assert data["stay_months"] == 12
    assert data["dependants"] == 2
    assert data["monthly_salary_usd"] == 1500.5
    assert data["languages"] == ["en", "id"]
    assert data["declaration"] is True
    assert data["has_previous_visa"] is False


@pytest.mark.parametrize(
    "field, text, message",
    [
        ("dependants", "two", "Enter a whole number."),
        ("dependants", "1.5", "Enter a whole number."),
        ("monthly_salary_usd", "12,5", "Enter a number."),
        ("monthly_salary_usd", "inf", "Enter a number."),
    ],
)
def test_bad_numbers_get_a_message_and_keep_the_text(form: FormSpec, field: str, text: str, message: str) -> None:
    data, errors = coerce(form, good_post(**{field: text}))
    assert errors == {field: [message]}
    assert data[field] == text


@pytest.mark.parametrize("text, value", [("7", 7), (" -3 ", -3), ("2.5", 2.5), ("1e3", 1000.0)])
def test_numbers_parse(form: FormSpec, text: str, value: float) -> None:
    field = "dependants" if isinstance(value, int) else "monthly_salary_usd"
    data, errors = coerce(form, good_post(**{field: text}))
    assert errors == {} and data[field] == value


def test_absent_checkbox_is_false_and_list_posts_count_by_last_item(form: FormSpec) -> None:
    data, _ = coerce(form, good_post(declaration=None, has_previous_visa=["false", "on"]))
    assert data["declaration"] is False
    assert data["has_previous_visa"] is True


def test_blank_text_is_left_out_and_strings_are_trimmed(form: FormSpec) -> None:
    data, errors = coerce(form, good_post(email="   ", dependants="", full_name="  Ada  "))
    assert errors == {}
    assert "email" not in data and "dependants" not in data
    assert data["full_name"] == "Ada"


def test_integer_choice_is_coerced_and_unknown_choice_left_for_validation(form: FormSpec) -> None:
    data, errors = coerce(form, good_post(stay_months="24"))
    assert data["stay_months"] == 24 and errors == {}
    data, errors = coerce(form, good_post(stay_months="7"))
    assert data["stay_months"] == "7" and errors == {}
    assert validate(form, data) == {"stay_months": ["Choose one of the options."]}


def test_read_only_fields_are_never_taken_from_input(form: FormSpec) -> None:
    data, _ = coerce(form, good_post(application_number="FORGED"))
    assert "application_number" not in data
    data, _ = coerce(form, good_post(application_number="FORGED"), current={"application_number": "KITAS-2026-0001"})
    assert data["application_number"] == "KITAS-2026-0001"


def test_unknown_inputs_are_ignored(form: FormSpec) -> None:
    data, _ = coerce(form, good_post(csrf_token="abc", approved="true"))
    assert "csrf_token" not in data and "approved" not in data


def test_rows_are_rebuilt_in_index_order_blank_rows_dropped(form: FormSpec) -> None:
    post = good_post(
        **{
            row_input_name("previous_employers", 7, "name"): "PT Later",
            row_input_name("previous_employers", 7, "start_year"): "2020",
            row_input_name("previous_employers", 7, "current"): "on",
            "previous_employers-2-name": "  ",
            "previous_employers-2-start_year": "",
            "previous_employers-0-name": "PT Earlier",
            "previous_employers-0-start_year": "2011",
            "previous_employers-0-nickname": "ignored",
            "previous_employers-x-name": "ignored",
        }
    )
    data, errors = coerce(form, post)
    assert errors == {}
    assert data["previous_employers"] == [
        {"name": "PT Earlier", "start_year": 2011, "current": False},
        {"name": "PT Later", "start_year": 2020, "current": True},
    ]


def test_row_errors_use_the_renumbered_index(form: FormSpec) -> None:
    post = good_post(
        **{
            "previous_employers-1-name": "",
            "previous_employers-4-name": "PT Bad Year",
            "previous_employers-4-start_year": "twenty",
        }
    )
    data, errors = coerce(form, post)
    assert errors == {"previous_employers.0.start_year": ["Enter a whole number."]}
    assert data["previous_employers"] == [{"name": "PT Bad Year", "start_year": "twenty", "current": False}]


def test_only_blank_rows_leave_the_array_out(form: FormSpec) -> None:
    data, _ = coerce(form, good_post(**{"previous_employers-0-name": ""}))
    assert "previous_employers" not in data


# --- validation --------------------------------------------------------------------------


def test_good_data_has_no_errors(form: FormSpec) -> None:
    assert validate(form, good_data()) == {}


@pytest.mark.parametrize(
    "changes, key, message",
    [
        ({"email": None}, "email", "This field is required."),
        ({"passport_scan": None}, "passport_scan", "This field is required."),
        (
            {"passport_number": "12345"},
            "passport_number",
            "Use the format: one or two capital letters, then 6 to 8 digits, e.g. A1234567.",
        ),
        ({"full_name": "A"}, "full_name", "Enter at least 2 characters."),
        ({"full_name": "A" * 61}, "full_name", "Enter no more than 60 characters."),
        ({"dependants": -1}, "dependants", "Enter a value at least 0."),
        ({"dependants": 11}, "dependants", "Enter a value at most 10."),
        ({"dependants": "3"}, "dependants", "Enter a whole number."),
        ({"monthly_salary_usd": 0}, "monthly_salary_usd", "Enter a value greater than 0."),
        ({"sponsor_type": "friend"}, "sponsor_type", "Choose one of the options."),
        ({"stay_months": 7}, "stay_months", "Choose one of the options."),
        ({"languages": ["fr"]}, "languages", "Choose one of the options."),
        ({"languages": ["en", "en"]}, "languages", "Remove the repeated entries."),
        ({"birth_date": "2023-02-30"}, "birth_date", "Enter a real date as YYYY-MM-DD."),
        ({"birth_date": "10/12/1990"}, "birth_date", "Enter a real date as YYYY-MM-DD."),
        ({"email": "ada.example.com"}, "email", "Enter an email address, such as name@example.com."),
        ({"email": "ada@localhost"}, "email", "Enter an email address, such as name@example.com."),
        ({"declaration": False}, "declaration", "Tick this box to continue."),
        (
            {"previous_employers": [{"name": "PT A", "start_year": 2001}] * 6},
            "previous_employers",
            "Add no more than 5 entries.",
        ),
        ({"previous_employers": [{"start_year": 2000}]}, "previous_employers.0.name", "This field is required."),
        (
            {"previous_employers": [{"name": "PT A", "start_year": 1900}]},
            "previous_employers.0.start_year",
            "Enter a value at least 1950.",
        ),
    ],
)
def test_plain_english_messages(form: FormSpec, changes: dict[str, Any], key: str, message: str) -> None:
    assert validate(form, good_data(**changes)) == {key: [message]}


@pytest.mark.parametrize(
    "address",
    [
        "ada@mail.c0m",
        "ada@example.c",
        "ada@example.test",
        "ada lovelace@example.com",
        "ñandú@example.com",
        "a" * 65 + "@x.org",
    ],
)
def test_email_format_refuses_what_mail_cannot_reach(form: FormSpec, address: str) -> None:
    assert validate(form, good_data(email=address)) == {"email": ["Enter an email address, such as name@example.com."]}


def test_email_format_and_the_stored_form_of_an_address() -> None:
    assert checked_email("ada@bücher.de") == "ada@xn--bcher-kva.de"
    assert checked_email("ada+kitas@mail.co.id") == "ada+kitas@mail.co.id"
    assert checked_email("ada@mail.c0m") is None


def test_pattern_without_a_hint_and_with_an_error_message() -> None:
    schema = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "^[0-9]{4}$"},
            "postcode": {
                "type": "string",
                "pattern": "^[0-9]{5}$",
                "errorMessage": {"pattern": "Enter the five digits of the postcode."},
            },
            "nik": {"type": "string", "pattern": "^[0-9]{16}$", "errorMessage": "Enter all 16 digits."},
        },
    }
    assert validate(schema, {"code": "x", "postcode": "x", "nik": "x"}) == {
        "code": ["This value is not in the expected format."],
        "postcode": ["Enter the five digits of the postcode."],
        "nik": ["Enter all 16 digits."],
    }


def test_ui_help_is_the_pattern_hint() -> None:
    spec = FormSpec(
        "f",
        {"type": "object", "properties": {"code": {"type": "string", "pattern": "^C$"}}},
        {"code": {"ui:help": "the letter C"}},
    )
    assert validate(spec, {"code": "x"}) == {"code": ["Use the format: the letter C."]}


def test_conditional_requirement_lands_on_the_required_field(form: FormSpec) -> None:
    assert validate(form, good_data(has_previous_visa=True)) == {
        "previous_visa_reason": ["This field is required."],
    }
    assert validate(form, good_data(has_previous_visa=True, previous_visa_reason="Expired")) == {}
    assert validate(form, good_data(has_previous_visa=False)) == {}


def test_every_error_is_returned_at_once_in_form_order(form: FormSpec) -> None:
    data = good_data(full_name=None, passport_number="bad", birth_date="2023-13-01", stay_months=5, declaration=False)
    errors = validate(form, data)
    assert list(errors) == ["full_name", "passport_number", "birth_date", "stay_months", "declaration"]
    assert all(len(messages) == 1 for messages in errors.values())


def test_several_failures_of_one_field_are_all_listed() -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "minLength": 3, "pattern": "^[A-Z]+$"}}}
    assert validate(schema, {"code": "a"}) == {
        "code": ["Enter at least 3 characters.", "This value is not in the expected format."],
    }


def test_whole_form_errors_use_the_empty_key() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "minProperties": 1}
    assert validate(schema, {}) == {"": ["This value is not valid."]}


def test_unknown_keys_are_dropped_unless_the_schema_opts_in() -> None:
    strict = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    assert validate(strict, {"a": "x", "csrf_token": "t"}) == {}
    assert known_data(FormSpec("s", strict), {"a": "x", "csrf_token": "t"}) == {"a": "x"}
    silent = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert known_data(FormSpec("s", silent), {"a": "x", "approved": True}) == {"a": "x"}
    open_form = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}}
    assert validate(open_form, {"a": "x", "extra": "no"}) == {"extra": ["Enter a whole number."]}


def test_unknown_keys_inside_rows_are_dropped(form: FormSpec) -> None:
    rows = [{"name": "PT A", "start_year": 2001, "salary": 10}]
    assert known_data(form, good_data(previous_employers=rows))["previous_employers"] == [
        {"name": "PT A", "start_year": 2001},
    ]


# --- checking and loading forms -----------------------------------------------------------


def test_sample_form_passes_check(form: FormSpec) -> None:
    assert check_form(form.schema, form.ui_schema) == []


def test_check_refuses_a_schema_that_is_not_draft_2020_12(form: FormSpec) -> None:
    broken = copy.deepcopy(dict(form.schema))
    broken["properties"]["full_name"]["minLength"] = -1
    broken["properties"]["dependants"]["type"] = "whole-number"
    problems = check_form(broken)
    assert len(problems) == 2
    assert all(p.startswith("not valid JSON Schema (draft 2020-12)") for p in problems)
    assert "/properties/full_name/minLength" in " ".join(problems)
    assert check_form({**form.schema, "$schema": "http://json-schema.org/draft-07/schema#"}) == [
        "the schema declares 'http://json-schema.org/draft-07/schema#'; forms use JSON Schema draft 2020-12",
    ]


def test_check_reports_ui_and_title_problems() -> None:
    schema = {
        "type": "object",
        "required": ["name", "nmae"],
        "properties": {
            "name": {"type": "string"},
            "rows": {
                "type": "array",
                "title": "Rows",
                "items": {"type": "object", "properties": {"x": {"type": "string"}}},
            },
        },
    }
    ui = {"ui:order": ["rows", "nickname"], "name": {"ui:widget": "slider"}, "nmae": {}}
    assert check_form(schema, ui) == [
        "the form has no title",
        "nmae: listed as required but not a field of the form",
        "ui:order names 'nickname', which is not a field of the form",
        "ui:order leaves out name; list them or add '*'",
        "nmae: the UI schema names a field the form does not have",
        "name: the field has no title",
        (
            "name: unknown ui:widget 'slider' (known: array-of-objects, checkbox, checkboxes, country, date, email, "
            "file, hidden, integer, number, radio, select, text, textarea)"
        ),
        "rows[].x: the field has no title",
    ]


def test_check_requires_an_object_form() -> None:
    assert check_form({"type": "string", "title": "x"}) == ['the form must be an object schema with "properties"']


def test_load_form_refuses_a_broken_form() -> None:
    with pytest.raises(FormError) as caught:
        read_form(DATA, "broken-order.schema.json")
    assert caught.value.form == "broken-order.schema.json"
    assert caught.value.problems == ["ui:order names 'nickname', which is not a field of the form"]
    assert read_form(DATA, "broken-order.schema.json", check=False).fields[0].name == "note"


def test_load_form_reports_bad_json() -> None:
    with pytest.raises(FormError, match="the schema is not valid JSON"):
        load_form(b"{not json", None, "x")
    with pytest.raises(FormError, match="the UI schema must be a JSON object"):
        load_form(json.dumps({"title": "t", "type": "object", "properties": {}}), "[]", "x")


def test_a_form_may_have_no_ui_schema() -> None:
    spec = read_form(DATA, "no-ui.schema.json")
    assert spec.name == "no-ui.schema.json" and spec.ui_schema == {}
    assert spec.fields


def _shipped_forms() -> list[str]:
    return sorted(p.name for p in SHIPPED.glob("*.schema.json"))


@pytest.mark.parametrize("schema_file", _shipped_forms())
def test_every_shipped_form_loads_and_passes_check(schema_file: str) -> None:
    spec = read_form(SHIPPED, schema_file, check=False)
    assert check_form(spec.schema, spec.ui_schema) == []
    assert spec.fields
