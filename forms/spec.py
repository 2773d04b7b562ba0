"""A form as the code sees it: a JSON Schema plus its UI schema, read into ordered fields."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from forms.texts import Message, joined

DOCUMENT_FORMAT = "kitas-document"
ARRAY_OF_OBJECTS = "array-of-objects"

# Every widget the renderer knows. `checkboxes` is a multiple choice (an array of enum values);
# `hidden` is posted like text but not shown; `country` is a text field holding an ISO 3166 alpha-2
# code, shown as a list of country names (the schema's pattern still validates it).
WIDGETS = frozenset(
    {
        "text",
        "textarea",
        "number",
        "integer",
        "date",
        "email",
        "select",
        "radio",
        "checkbox",
        "checkboxes",
        "file",
        "hidden",
        "country",
        ARRAY_OF_OBJECTS,
    }
)

# `ui:widget` names from react-jsonschema-form (SpiffArena's renderer) mapped to ours;
# None means "derive it from the JSON type".
UI_WIDGET_ALIASES: dict[str, str | None] = {
    "alt-date": "date",
    "updown": None,
    "range": None,
    "FileWidget": "file",
}

BOOLEAN_OPTIONS_LABELS = (Message("Yes"), Message("No"))

# The words a form's answers are shown in to someone who reviews them (an officer, the sponsor), where the
# words the person filling it reads speak to her ("Your decision", "We confirm: ..."): a form's or a field's
# ``ui:reviewTitle`` and a choice field's ``ui:reviewEnumNames`` (in the order of its enum).
REVIEW_TITLE = "ui:reviewTitle"
REVIEW_ENUM_NAMES = "ui:reviewEnumNames"


class FormError(Exception):
    """A form cannot be loaded or used; ``problems`` says why, one plain sentence each."""

    def __init__(self, form: str, problems: list[str]):
        self.form = form
        self.problems = problems
        super().__init__(Message("form %(form)r cannot be used: %(problems)s", form=form, problems=joined(problems)))


@dataclass(frozen=True)
class Option:
    """One choice of a select, radio or checkboxes field."""

    value: Any
    label: str

    @property
    def form_value(self) -> str:
        """The text an HTML form posts for this option (``2``, ``true``, ``KITAS``)."""
        return self.value if isinstance(self.value, str) else json.dumps(self.value)


@dataclass(frozen=True)
class FormField:
    """One input of a form, with everything the renderer and the coercer need."""

    name: str
    title: str
    required: bool
    widget: str
    type: str | None
    schema: Mapping[str, Any]
    ui: Mapping[str, Any]
    options: tuple[Option, ...] = ()
    read_only: bool = False
    help: str | None = None
    items: tuple[FormField, ...] = ()
    review_title: str = ""  # the label of the answer where someone else reviews it (else ``title``)
    review_options: tuple[Option, ...] = ()  # the choices as a reviewer reads them (else ``options``)

    def item(self, name: str) -> FormField | None:
        """Return the row field called ``name`` of an array-of-objects field, if any."""
        return next((sub for sub in self.items if sub.name == name), None)


@dataclass(frozen=True)
class FormSpec:
    """A loaded form: its name, JSON Schema and UI schema (both plain dicts, never mutated)."""

    name: str
    schema: Mapping[str, Any]
    ui_schema: Mapping[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The form's heading: ``ui:title`` or the schema's title, else its name."""
        return str(self.ui_schema.get("ui:title") or self.schema.get("title") or self.name)

    @property
    def review_title(self) -> str:
        """The heading of this form's answers where someone else reviews them (an officer, the sponsor):
        ``ui:reviewTitle``, else the heading the person who fills it reads."""
        return str(self.ui_schema.get(REVIEW_TITLE) or self.title)

    @property
    def description(self) -> str | None:
        """The schema's description, shown under the heading."""
        return self.schema.get("description")

    @cached_property
    def fields(self) -> tuple[FormField, ...]:
        """The form's fields in display order (``ui:order``, ``*`` standing for the rest)."""
        return object_fields(self.schema, self.ui_schema)

    def field(self, name: str) -> FormField | None:
        """Return the top-level field called ``name``, if any."""
        return next((f for f in self.fields if f.name == name), None)

    def field_at(self, path: Sequence[str | int]) -> FormField | None:
        """Return the field at an error path such as ``("previous_employers", 0, "name")``."""
        names = [part for part in path if not isinstance(part, int)]
        found = self.field(names[0]) if names else None
        for name in names[1:]:
            found = found.item(name) if found else None
        return found


def object_fields(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> tuple[FormField, ...]:
    """Read the properties of an object schema into ordered fields."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    names = ordered_names(list(properties), ui.get("ui:order"))
    return tuple(_field(name, properties[name], ui_of(ui, name), name in required) for name in names)


def ordered_names(names: list[str], order: Sequence[str] | None) -> list[str]:
    """Order ``names`` by ``ui:order``; ``*`` stands for the unnamed ones, else they go last."""
    if not order:
        return names
    named = [n for n in order if n in names]
    rest = [n for n in names if n not in order]
    if "*" not in order:
        return named + rest
    star = list(order).index("*")
    before = [n for n in order[:star] if n in names]
    after = [n for n in order[star + 1 :] if n in names]
    return before + rest + after


def json_type(schema: Mapping[str, Any]) -> str | None:
    """The main JSON type of a property (the first that is not ``null``), if it says."""
    declared = schema.get("type")
    if isinstance(declared, list):
        return next((t for t in declared if t != "null"), None)
    if declared is None and schema.get("format") in ("date", "email", DOCUMENT_FORMAT):
        return "string"
    return declared


def options_of(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> tuple[Option, ...]:
    """The choices of a property: ``oneOf``/``anyOf`` of ``const`` + ``title``, or ``enum``."""
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives and all(isinstance(a, dict) and "const" in a for a in alternatives):
        return tuple(Option(a["const"], str(a.get("title", a["const"]))) for a in alternatives)
    if "enum" in schema:
        labels = list(ui.get("ui:enumNames") or ())
        return tuple(
            Option(value, str(labels[i]) if i < len(labels) else _label(value))
            for i, value in enumerate(schema["enum"])
        )
    return ()


def widget_of(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    """The widget for a property: its ``ui:widget`` if known, else derived from type and format."""
    asked = ui.get("ui:widget")
    if isinstance(asked, str):
        asked = UI_WIDGET_ALIASES.get(asked, asked)
        if asked in WIDGETS:
            return asked
    kind = json_type(schema)
    items = items_of(schema)
    if schema.get("format") == DOCUMENT_FORMAT:
        return "file"
    if kind == "array":
        if json_type(items) == "object" or "properties" in items:
            return ARRAY_OF_OBJECTS
        return "checkboxes" if options_of(items, ui) else "text"
    if options_of(schema, ui):
        return "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return kind
    if schema.get("format") in ("date", "email"):
        return str(schema["format"])
    return "text"


def _field(name: str, schema: Mapping[str, Any], ui: Mapping[str, Any], required: bool) -> FormField:
    widget = widget_of(schema, ui)
    kind = json_type(schema)
    items_schema = items_of(schema)
    options = options_of(items_schema if kind == "array" else schema, ui)
    if kind == "boolean" and not options and widget in ("radio", "select"):
        options = (Option(True, BOOLEAN_OPTIONS_LABELS[0]), Option(False, BOOLEAN_OPTIONS_LABELS[1]))
    items = object_fields(items_schema, ui_of(ui, "items")) if widget == ARRAY_OF_OBJECTS else ()
    title = str(ui.get("ui:title") or schema.get("title") or humanize(name))
    review = options
    if ui.get(REVIEW_ENUM_NAMES) and options:
        labels = list(ui[REVIEW_ENUM_NAMES])
        review = tuple(Option(o.value, str(labels[i]) if i < len(labels) else o.label) for i, o in enumerate(options))
    return FormField(
        name=name,
        title=title,
        review_title=str(ui.get(REVIEW_TITLE) or title),
        review_options=review,
        required=required,
        widget=widget,
        type=kind,
        schema=schema,
        ui=ui,
        options=options,
        read_only=bool(schema.get("readOnly") or ui.get("ui:readonly")),
        help=ui.get("ui:help") or schema.get("description"),
        items=items,
    )


def items_of(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``items`` schema of an array property (``{}`` when it has none)."""
    items = schema.get("items")
    return items if isinstance(items, dict) else {}


def ui_of(ui: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The UI schema of one property (``{}`` when it has none)."""
    found = ui.get(name)
    return found if isinstance(found, dict) else {}


def humanize(name: str) -> str:
    """A readable stand-in title for a field name: ``passport_number`` -> ``Passport number``."""
    return name.replace("_", " ").replace("-", " ").strip().capitalize() or name


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
