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
    """List every problem that makes a form unusable; an empty list means it can be deployed."""
    if not isinstance(schema, Mapping):
        return ["the schema must be a JSON object"]
    declared = schema.get("$schema")
    if declared is not None and str(declared).rstrip("#") != DRAFT_2020_12:
        return [f"the schema declares {declared!r}; forms use JSON Schema draft 2020-12"]
    problems = [
        f"not valid JSON Schema (draft 2020-12) at {_where(error.absolute_path)}: {error.message}"
        for error in sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        return problems
    if json_type(schema) != "object" or not isinstance(schema.get("properties"), dict):
        return ['the form must be an object schema with "properties"']
    ui = ui_schema or {}
    if not (schema.get("title") or ui.get("ui:title")):
        problems.append("the form has no title")
    problems.extend(_check_object(schema, ui, prefix=""))
    return problems


def _parse(text: str | bytes, name: str, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise FormError(name, [f"the {what} is not valid JSON: {error}"]) from None
    if not isinstance(parsed, dict):
        raise FormError(name, [f"the {what} must be a JSON object"])
    return parsed


def _check_object(schema: Mapping[str, Any], ui: Mapping[str, Any], prefix: str) -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    problems = [
        f"{prefix}{name}: listed as required but not a field of the form"
        for name in _required_names(schema)
        if name not in properties
    ]
    problems.extend(_check_order(list(properties), ui.get("ui:order"), prefix))
    problems.extend(
        f"{prefix}{key}: the UI schema names a field the form does not have"
        for key in ui
        if not key.startswith("ui:") and key not in properties
    )
    for name, prop in properties.items():
        problems.extend(_check_property(f"{prefix}{name}", prop, ui_of(ui, name)))
    return problems


def _check_property(path: str, prop: Any, ui: Mapping[str, Any]) -> list[str]:
    if not isinstance(prop, dict):
        return [f"{path}: a field must be described by a JSON object"]
    problems = []
    if not (prop.get("title") or ui.get("ui:title")):
        problems.append(f"{path}: the field has no title")
    widget = ui.get("ui:widget")
    if widget is not None and (
        not isinstance(widget, str) or UI_WIDGET_ALIASES.get(widget, widget) not in WIDGETS | {None}
    ):
        problems.append(f"{path}: unknown ui:widget {widget!r} (known: {', '.join(sorted(WIDGETS))})")
    kind = json_type(prop)
    items = prop.get("items")
    values = prop.get("enum") or (items.get("enum") if isinstance(items, dict) else None) or ()
    labels = ui.get("ui:enumNames")
    if labels is not None and len(labels) != len(values):
        problems.append(f"{path}: ui:enumNames has {len(labels)} labels for {len(values)} values")
    if kind == "array" and isinstance(items, dict) and (json_type(items) == "object" or "properties" in items):
        problems.extend(_check_object(items, ui_of(ui, "items"), prefix=f"{path}[]."))
    elif kind == "object":
        problems.append(f"{path}: nested objects are not supported; flatten them or use an array of objects")
    if ui.get("ui:widget") == ARRAY_OF_OBJECTS and kind != "array":
        problems.append(f"{path}: {ARRAY_OF_OBJECTS} needs an array of objects")
    return problems


def _check_order(names: list[str], order: Any, prefix: str) -> list[str]:
    if order is None:
        return []
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        return [f"{prefix}ui:order must be a list of field names"]
    where = f"{prefix}ui:order" if prefix else "ui:order"
    problems = [f"{where} names {n!r}, which is not a field of the form" for n in order if n != "*" and n not in names]
    problems.extend(f"{where} names {n!r} more than once" for n in sorted(set(order)) if order.count(n) > 1)
    if "*" not in order:
        missing = [n for n in names if n not in order]
        if missing:
            problems.append(f"{where} leaves out {', '.join(missing)}; list them or add '*'")
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
    return "/" + "/".join(map(str, path)) if path else "the top level"
