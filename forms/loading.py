"""Parsing a form's schema and UI schema, and refusing a broken form before it is deployed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from forms.spec import (
    ARRAY_OF_OBJECTS,
    UI_WIDGET_ALIASES,
    WIDGETS,
    FormError,
    FormSpec,
    json_type,
    ui_of,
)
from forms.texts import Message

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def load_form(schema_text: str | bytes, ui_text: str | bytes | None, name: str, *, check: bool = True) -> FormSpec:
    """Parse a form's schema and UI schema; with ``check``, refuse it if ``check_form`` objects."""
    schema = _parse(schema_text, name, "schema")
    ui = _parse(ui_text, name, "UI schema") if ui_text and ui_text.strip() else {}
    if check:
        problems = check_form(schema, ui)
        if problems:
            raise FormError(name, problems)
    return FormSpec(name=name, schema=schema, ui_schema=ui)


def check_form(schema: Mapping[str, Any], ui_schema: Mapping[str, Any] | None = None) -> list[str]:
    """List every problem that makes a form unusable (each a Message); an empty list means it can be deployed."""
    if not isinstance(schema, Mapping):
        return [Message("the schema must be a JSON object")]
    declared = schema.get("$schema")
    if declared is not None and str(declared).rstrip("#") != DRAFT_2020_12:
        return [Message("the schema declares %(declared)r; forms use JSON Schema draft 2020-12", declared=declared)]
    problems: list[str] = [
        Message(
            "not valid JSON Schema (draft 2020-12) at %(where)s: %(problem)s",
            where=_where(error.absolute_path),
            problem=error.message,
        )
        for error in sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        return problems
    if json_type(schema) != "object" or not isinstance(schema.get("properties"), dict):
        return [Message('the form must be an object schema with "properties"')]
    ui = ui_schema or {}
    if not (schema.get("title") or ui.get("ui:title")):
        problems.append(Message("the form has no title"))
    problems.extend(_check_object(schema, ui, prefix=""))
    return problems


def _parse(text: str | bytes, name: str, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        if what == "schema":
            raise FormError(name, [Message("the schema is not valid JSON: %(error)s", error=str(error))]) from None
        raise FormError(name, [Message("the UI schema is not valid JSON: %(error)s", error=str(error))]) from None
    if not isinstance(parsed, dict):
        if what == "schema":
            raise FormError(name, [Message("the schema must be a JSON object")])
        raise FormError(name, [Message("the UI schema must be a JSON object")])
    return parsed


def _check_object(schema: Mapping[str, Any], ui: Mapping[str, Any], prefix: str) -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    problems: list[str] = [
        Message("%(field)s: listed as required but not a field of the form", field=prefix + name)
        for name in _required_names(schema)
        if name not in properties
    ]
    problems.extend(_check_order(list(properties), ui.get("ui:order"), prefix))
    problems.extend(
        Message("%(field)s: the UI schema names a field the form does not have", field=prefix + key)
        for key in ui
        if not key.startswith("ui:") and key not in properties
    )
    for name, prop in properties.items():
        problems.extend(_check_property(f"{prefix}{name}", prop, ui_of(ui, name)))
    return problems


def _check_property(path: str, prop: Any, ui: Mapping[str, Any]) -> list[str]:
    if not isinstance(prop, dict):
        return [Message("%(field)s: a field must be described by a JSON object", field=path)]
    problems: list[str] = []
    if not (prop.get("title") or ui.get("ui:title")):
        problems.append(Message("%(field)s: the field has no title", field=path))
    widget = ui.get("ui:widget")
    if widget is not None and (
        not isinstance(widget, str) or UI_WIDGET_ALIASES.get(widget, widget) not in WIDGETS | {None}
    ):
        problems.append(
            Message(
                "%(field)s: unknown ui:widget %(widget)r (known: %(known)s)",
                field=path,
                widget=widget,
                known=", ".join(sorted(WIDGETS)),
            )
        )
    kind = json_type(prop)
    items = prop.get("items")
    values = prop.get("enum") or (items.get("enum") if isinstance(items, dict) else None) or ()
    for key in ("ui:enumNames", "ui:reviewEnumNames"):
        labels = ui.get(key)
        if labels is not None and len(labels) != len(values):
            problems.append(
                Message(
                    "%(field)s: %(key)s has %(labels)s labels for %(values)s values",
                    field=path,
                    key=key,
                    labels=len(labels),
                    values=len(values),
                )
            )
    if kind == "array" and isinstance(items, dict) and (json_type(items) == "object" or "properties" in items):
        problems.extend(_check_object(items, ui_of(ui, "items"), prefix=f"{path}[]."))
    elif kind == "object":
        problems.append(
            Message("%(field)s: nested objects are not supported; flatten them or use an array of objects", field=path)
        )
    if ui.get("ui:widget") == ARRAY_OF_OBJECTS and kind != "array":
        problems.append(Message("%(field)s: %(widget)s needs an array of objects", field=path, widget=ARRAY_OF_OBJECTS))
    return problems


def _check_order(names: list[str], order: Any, prefix: str) -> list[str]:
    if order is None:
        return []
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        return [Message("%(where)s must be a list of field names", where=prefix + "ui:order")]
    where = f"{prefix}ui:order" if prefix else "ui:order"
    problems: list[str] = [
        Message("%(where)s names %(name)r, which is not a field of the form", where=where, name=n)
        for n in order
        if n != "*" and n not in names
    ]
    problems.extend(
        Message("%(where)s names %(name)r more than once", where=where, name=n)
        for n in sorted(set(order))
        if order.count(n) > 1
    )
    if "*" not in order:
        missing = [n for n in names if n not in order]
        if missing:
            problems.append(
                Message(
                    "%(where)s leaves out %(missing)s; list them or add '*'", where=where, missing=", ".join(missing)
                )
            )
    return problems


def _required_names(schema: Mapping[str, Any]) -> list[str]:
    """Required names of an object, including those of if/then/else and allOf branches."""
    names = list(schema.get("required") or ())
    for key in ("then", "else"):
        branch = schema.get(key)
        if isinstance(branch, dict):
            names.extend(_required_names(branch))
    for branch in schema.get("allOf") or ():
        if isinstance(branch, dict):
            names.extend(_required_names(branch))
    return names


def _where(path: Any) -> str:
    return "/" + "/".join(map(str, path)) if path else Message("the top level")
