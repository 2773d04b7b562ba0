"""Checking form data against its schema: every error at once, in plain English, by field path.

Error keys are field paths: ``passport_number``, ``previous_employers.0.name``, and ``""``
for an error that concerns the whole form. A missing field's error stands on the field's
own key, never on the object that requires it (so ``if``/``then`` requirements land on the
field the condition demands).

Messages can be overridden per property with ``errorMessage`` (the ajv-errors convention):
a string for any failure of that property, or an object keyed by keyword
(``{"pattern": "...", "required": "..."}``). A failed ``pattern`` otherwise says
"Use the format: <hint>", the hint being the field's ``ui:help`` or ``description``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from forms.coercion import NUMBER, WHOLE_NUMBER, YES_OR_NO
from forms.rules import RuleContext, choice_errors, rule_errors
from forms.spec import ARRAY_OF_OBJECTS, DOCUMENT_FORMAT, FormField, FormSpec, json_type
from forms.texts import Message

Errors = dict[str, list[str]]

REQUIRED = Message("This field is required.")
CHOOSE = Message("Choose one of the options.")
NOT_IN_FORMAT = Message("This value is not in the expected format.")
NOT_VALID = Message("This value is not valid.")
FORMAT_MESSAGES = {
    "date": Message("Enter a real date as YYYY-MM-DD."),
    "email": Message("Enter an email address, such as name@example.com."),
    DOCUMENT_FORMAT: Message("Upload this document."),
}
TYPE_MESSAGES = {
    "integer": WHOLE_NUMBER,
    "number": NUMBER,
    "boolean": YES_OR_NO,
    "string": Message("Enter text here."),
    "array": Message("Add a list of entries here."),
    "object": Message("This value has the wrong shape."),
}

FORMAT_CHECKER = FormatChecker()


def checked_email(text: str) -> str | None:
    """``text`` as an address mail can be sent to, its domain in ASCII (IDNA) form; None if it is not one.

    The syntax is email-validator's, without DNS look-ups. The part before the @ must be ASCII (mail
    leaves without SMTPUTF8) and at most 64 characters; special-use domains such as ``localhost`` or
    ``.test`` are refused. The top-level domain must be letters, at least two, or an IDNA ``xn--`` label:
    no real one has a digit or a single letter, so ``name@mail.c0m`` is a typo to catch.
    """
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False, strict=True)
    except EmailNotValidError:
        return None
    top = checked.ascii_domain.rpartition(".")[2]
    if len(top) < 2 or not (top.isalpha() or top.startswith("xn--")):
        return None
    return checked.ascii_email


@FORMAT_CHECKER.checks("email")
def _is_email(instance: object) -> bool:
    """An e-mail address people can receive mail at (see ``checked_email``)."""
    return not isinstance(instance, str) or checked_email(instance) is not None


@FORMAT_CHECKER.checks(DOCUMENT_FORMAT)
def _is_document(instance: object) -> bool:
    """A document reference is a non-blank string (the document service says what it names)."""
    return not isinstance(instance, str) or bool(instance.strip())


def validate(form: FormSpec | Mapping[str, Any], data: Mapping[str, Any], context: RuleContext | None = None) -> Errors:
    """Return every error of ``data`` at once, keyed by field path, in the form's field order.

    Keys the form does not declare are dropped first (see ``known_data``), so a stray input
    neither fails a strict schema nor slips through a lenient one. With a ``context`` (today, the
    catalog's numbers, the earlier answers) the form's ``x-kitas-rules`` are checked too, on the
    fields the schema found nothing wrong with (see ``forms.rules``), and a read-only field has the
    value the case holds (``context.answers``), never a posted one: so a schema's ``if``/``then`` can
    depend on an earlier answer shown read-only (the family checklist asks for the sponsor's permit
    exactly when the relation is E31B).
    """
    spec = form if isinstance(form, FormSpec) else FormSpec(name="", schema=form)
    validator = Draft202012Validator(spec.schema, format_checker=FORMAT_CHECKER)
    errors: Errors = {}
    known = known_data(spec, data)
    if context is not None:
        for item in spec.fields:
            if item.read_only:
                known.pop(item.name, None)
                if item.name in context.answers:
                    known[item.name] = context.answers[item.name]
    for error in validator.iter_errors(known):
        for key, message in _explain(spec, error):
            _add(errors, key, message)
    if context is not None:
        # A choice the schema refused, on a field whose one_of rule says which choices there are: its words.
        refused = [key for key, messages in errors.items() if messages == [CHOOSE]]
        errors.update(choice_errors(spec, known, refused, context))
        for key, messages in rule_errors(spec, known, context).items():
            if key not in errors:
                for message in messages:
                    _add(errors, key, message)
    return _in_form_order(spec, errors)


def known_data(form: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without keys the form does not declare, at the top and inside array rows.

    Extra keys are kept only where the schema opts in explicitly: ``additionalProperties``
    set to ``true`` or a schema, or a matching ``patternProperties`` entry. The default
    (nothing said) drops them, so a client cannot slip workflow variables into a task.
    """
    return _known(form.schema, data)


def _known(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    patterns = list(schema.get("patternProperties") or ())
    kept: dict[str, Any] = {}
    for key, value in data.items():
        prop = properties.get(key)
        if prop is None and not (extra is True or isinstance(extra, dict) or any(re.search(p, key) for p in patterns)):
            continue
        items = prop.get("items") if isinstance(prop, dict) else None
        if isinstance(items, dict) and "properties" in items and isinstance(value, list):
            value = [_known(items, row) if isinstance(row, Mapping) else row for row in value]
        kept[key] = value
    return kept


def _explain(spec: FormSpec, error: ValidationError) -> list[tuple[str, str]]:
    """Turn one jsonschema error into ``(key, message)`` pairs."""
    path = list(error.absolute_path)
    if error.validator in ("required", "dependentRequired"):
        return [(_key(spec, path + [name]), _required_message(spec, path + [name])) for name in _missing(error)]
    if error.validator in ("oneOf", "anyOf") and error.context and not _is_choice(error.schema):
        return _explain(spec, best_match(error.context))
    field = spec.field_at(path)
    return [(_key(spec, path), _custom(error) or _message(error, field))]


def _message(error: ValidationError, field: FormField | None) -> str:
    """The plain-English sentence for one failed keyword."""
    keyword, value = error.validator, error.validator_value
    if keyword == "pattern":
        return _format_hint(error.schema, field)
    if keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        return _length(keyword, value)
    if keyword == "minimum":
        return Message("Enter a value at least %(bound)s.", bound=value)
    if keyword == "maximum":
        return Message("Enter a value at most %(bound)s.", bound=value)
    if keyword == "exclusiveMinimum":
        return Message("Enter a value greater than %(bound)s.", bound=value)
    if keyword == "exclusiveMaximum":
        return Message("Enter a value less than %(bound)s.", bound=value)
    if keyword == "const":
        return (
            Message("Tick this box to continue.")
            if value is True
            else Message("This value must be %(value)s.", value=value)
        )
    if keyword == "type" and field is not None and field.options:
        return CHOOSE
    if keyword == "type":
        wanted = json_type({"type": value}) or "string"
        return TYPE_MESSAGES.get(wanted, NOT_VALID)
    if keyword == "format":
        return FORMAT_MESSAGES.get(value, NOT_IN_FORMAT)
    simple = {
        "enum": CHOOSE,
        "oneOf": CHOOSE,
        "anyOf": CHOOSE,
        "not": Message("This value is not allowed."),
        "multipleOf": Message("Enter a multiple of %(value)s.", value=value),
        "uniqueItems": Message("Remove the repeated entries."),
        "additionalProperties": Message("Remove the fields this form does not know."),
    }
    return simple.get(keyword, NOT_VALID)


def _length(keyword: str, count: int) -> Message:
    """The sentence for a length or a number of entries out of bounds: a whole one for one, and for several."""
    one = count == 1
    if keyword == "minLength":
        return (
            Message("Enter at least %(count)s character.", count=count)
            if one
            else Message("Enter at least %(count)s characters.", count=count)
        )
    if keyword == "maxLength":
        return (
            Message("Enter no more than %(count)s character.", count=count)
            if one
            else Message("Enter no more than %(count)s characters.", count=count)
        )
    if keyword == "minItems":
        return (
            Message("Add at least %(count)s entry.", count=count)
            if one
            else Message("Add at least %(count)s entries.", count=count)
        )
    return (
        Message("Add no more than %(count)s entry.", count=count)
        if one
        else Message("Add no more than %(count)s entries.", count=count)
    )


def _format_hint(schema: Mapping[str, Any], field: FormField | None) -> str:
    hint = (field.help if field else None) or schema.get("description")
    if hint:
        return Message("Use the format: %(hint)s.", hint=str(hint).strip().rstrip("."))
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return Message("Use the format of this example: %(example)s.", example=examples[0])
    return NOT_IN_FORMAT


def _required_message(spec: FormSpec, path: Sequence[str | int]) -> str:
    field = spec.field_at(path)
    return _custom_from(field.schema if field else {}, "required") or REQUIRED


def _custom(error: ValidationError) -> str | None:
    return _custom_from(error.schema, str(error.validator)) if isinstance(error.schema, Mapping) else None


def _custom_from(schema: Mapping[str, Any], keyword: str) -> str | None:
    """An ``errorMessage`` for this keyword: the string itself, or its entry in an object."""
    custom = schema.get("errorMessage")
    if isinstance(custom, dict):
        custom = custom.get(keyword)
    return custom if isinstance(custom, str) else None


def _missing(error: ValidationError) -> list[str]:
    """The property names a ``required`` or ``dependentRequired`` error is about."""
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    if error.validator == "required":
        names = list(error.validator_value)
    else:
        names = [dep for prop, deps in error.validator_value.items() if prop in instance for dep in deps]
    return [name for name in names if name not in instance]


def _is_choice(schema: Any) -> bool:
    """Whether a ``oneOf``/``anyOf`` is a list of ``const`` options (a select, not alternatives)."""
    if not isinstance(schema, Mapping):
        return False
    alternatives = schema.get("oneOf") or schema.get("anyOf") or ()
    return bool(alternatives) and all(isinstance(a, Mapping) and "const" in a for a in alternatives)


def _key(spec: FormSpec, path: Sequence[str | int]) -> str:
    """The error key for a path; within a single-input field (e.g. checkboxes) it is the field."""
    parts = list(path)
    top = spec.field(parts[0]) if parts and isinstance(parts[0], str) else None
    if top is not None and top.widget != ARRAY_OF_OBJECTS:
        parts = parts[:1]
    return ".".join(map(str, parts))


def _add(errors: Errors, key: str, message: str) -> None:
    messages = errors.setdefault(key, [])
    if message not in messages:
        messages.append(message)


def _in_form_order(spec: FormSpec, errors: Errors) -> Errors:
    """Errors ordered as the fields are shown: the whole form first, then field by field."""
    position = {f.name: i for i, f in enumerate(spec.fields)}

    def rank(key: str) -> tuple[int, tuple[int, ...]]:
        if not key:
            return (-1, ())
        top, *rest = key.split(".")
        field = spec.field(top)
        row_order = {sub.name: i for i, sub in enumerate(field.items)} if field else {}
        return (
            position.get(top, len(position)),
            tuple(int(p) if p.isdigit() else row_order.get(p, len(row_order)) for p in rest),
        )

    return {key: errors[key] for key in sorted(errors, key=rank)}
