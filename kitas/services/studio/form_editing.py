"""The studio's form editor: a draft's JSON Schema, UI schema and Indonesian texts, edited raw or field by field.

A form of a draft is a ``*schema.json`` file among the draft's files; its UI schema is the matching
``*uischema.json`` and its texts the ``.id.json`` files beside both (JSON pointer -> text,
``forms.texts``). Nothing is saved unless both documents parse and ``forms.check_form`` (and the rules
check) accept the form; refused text comes back as it was typed, with the problems beside it.
The preview and its sample data use the form exactly as a case loads and validates it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import forms
from forms.texts import Message, localize, missing_texts, parse_texts, text_pointers
from workflows import catalog

from ...extensions import app_clock
from ...models import StudioDraft, User
from ..cases.form_rules import type_rule_context
from ..deployments import texts_file
from ..errors import InvalidInput, NotFound
from . import drafts
from .shared_files import shared_step_of

LANGUAGE = "id"  # the language the texts files hold (English is in the documents themselves)
FIELD_KINDS = ("string", "number", "integer", "boolean", "date", "choice")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
NEW_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "New form",
    "type": "object",
    "properties": {},
    "required": [],
    "additionalProperties": False,
}


@dataclass
class FieldRow:
    """One field of the field list, as the analyst edits it."""

    name: str
    kind: str
    required: bool
    title: str
    title_id: str
    help: str
    help_id: str
    choices: str  # one choice a line: ``value = English label = Indonesian label``


@dataclass
class FieldChange:
    """What the field list posts for one field (a new one, or a change of an existing one)."""

    name: str
    kind: str = "string"
    required: bool = False
    title: str = ""
    title_id: str = ""
    help: str = ""
    help_id: str = ""
    choices: str = ""


@dataclass
class FormTexts:
    """The four texts of a form as the editor holds them (typed or saved)."""

    schema: str
    ui_schema: str
    schema_texts: str = "{}"
    ui_texts: str = "{}"


@dataclass
class FormEditor:
    """Everything the form editor page shows."""

    draft: StudioDraft
    name: str
    ui_name: str
    texts: FormTexts
    revision: int
    fields: list[FieldRow] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    untranslated: list[str] = field(default_factory=list)
    is_new: bool = False
    shared_step: str | None = None  # the shared step the form belongs to (its copy here must not differ)

    @property
    def editable(self) -> bool:
        """Only an open draft takes changes."""
        return self.draft.status == "open"


@dataclass
class Preview:
    """A form as an applicant sees it in one language, with sample data and (when checked) its errors."""

    form: forms.FormSpec | None
    language: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    checked: bool = False
    problems: list[str] = field(default_factory=list)  # why there is no preview (the form cannot be read)


class FormRefused(InvalidInput):
    """The edit was not saved; ``editor`` holds what was typed and the problems beside each text area."""

    def __init__(self, editor: FormEditor):
        super().__init__(editor.errors)
        self.editor = editor


def ui_schema_name(name: str) -> str:
    """The UI schema beside a form's schema: ``x.schema.json`` -> ``x.uischema.json``."""
    for suffix in (".schema.json", "-schema.json", "_schema.json"):
        if name.endswith(suffix):
            return name.removesuffix(suffix) + suffix.replace("schema", "uischema")
    return name.removesuffix(".json") + ".uischema.json"


def is_form_file(name: str) -> bool:
    """A JSON Schema file of a form (not its UI schema, not a texts file)."""
    return name.endswith("schema.json") and not name.endswith("uischema.json") and not name.endswith(".id.json")


def draft_files(draft_id: int) -> tuple[StudioDraft, list[str], list[str]]:
    """A draft, its forms and its decision tables (file names, sorted)."""
    draft = drafts.get_draft(draft_id)
    names = sorted(draft.files)
    return draft, [n for n in names if is_form_file(n)], [n for n in names if n.endswith(".dmn")]


def new_form_name(draft_id: int, typed: str) -> str:
    """The file name of a new form of a draft from what the analyst typed (``leave-approval`` gives
    ``leave-approval.schema.json``); InvalidInput on ``name`` for a name with a path, odd characters, or one
    the draft already has (that form is opened from the list)."""
    draft = drafts.get_draft(draft_id)
    name = typed.strip()
    if name and not name.endswith(".json"):
        name += ".schema.json"
    if not name:
        raise InvalidInput({"name": [Message("Enter a name for the form, such as leave-approval.")]})
    if not drafts.valid_file_name(name) or not is_form_file(name) or "/" in name:
        raise InvalidInput(
            {"name": [Message("Use letters, digits, - and _ only, without a folder, such as leave-approval.")]}
        )
    if name in draft.files:
        raise InvalidInput({"name": [Message("This draft already has a form %(name)s.", name=name)]})
    return name


def open_form(draft_id: int, name: str, typed: FormTexts | None = None, revision: int | None = None) -> FormEditor:
    """The editor of one form of a draft; a plain name the draft lacks opens a new form to create. With
    ``typed`` (and the ``revision`` they were typed on): those texts, as the analyst has them in the page."""
    draft = _draft_and_name(draft_id, name)
    ui_name = ui_schema_name(name)
    files = draft.files
    is_new = name not in files
    texts = FormTexts(
        schema=files.get(name) or json.dumps(NEW_FORM, indent=2, ensure_ascii=False),
        ui_schema=files.get(ui_name) or "{}",
        schema_texts=files.get(texts_file(name, LANGUAGE)) or "{}",
        ui_texts=files.get(texts_file(ui_name, LANGUAGE)) or "{}",
    )
    editor = FormEditor(
        draft, name, ui_name, typed or texts, draft.revision if revision is None else revision, is_new=is_new
    )
    _describe(editor)
    return editor


def edit_form(
    draft_id: int,
    name: str,
    revision: int,
    user: User,
    texts: FormTexts,
    *,
    add: FieldChange | None = None,
    change: FieldChange | None = None,
    remove: str | None = None,
) -> FormEditor:
    """Save the typed texts, with one field added, changed or removed first; FormRefused (what was typed
    and why) when a text does not parse or the form cannot be used, Conflict when another save came first."""
    draft = _draft_and_name(draft_id, name)
    editor = FormEditor(draft, name, ui_schema_name(name), texts, revision, is_new=name not in draft.files)
    documents = _parsed(editor)
    if documents is None:
        raise FormRefused(editor)
    _describe(editor)
    schema, ui, schema_texts, ui_texts = documents
    try:
        if add is not None:
            _add_field(schema, ui, schema_texts, ui_texts, add)
        elif change is not None:
            _change_field(schema, ui, schema_texts, ui_texts, change)
        elif remove is not None:
            _remove_field(schema, ui, remove)
    except InvalidInput as exc:
        editor.errors.update(exc.errors)
        raise FormRefused(editor) from None
    problems = _form_problems(draft, name, schema, ui)
    if problems:
        _place_problems(editor, problems)
        raise FormRefused(editor)
    schema_texts = _kept_texts(schema, schema_texts)
    ui_texts = _kept_texts(ui, ui_texts)
    editor.texts = FormTexts(_dumped(schema), _dumped(ui), _dumped(schema_texts), _dumped(ui_texts))
    files = {name: editor.texts.schema, editor.ui_name: editor.texts.ui_schema}
    for source, kept in ((name, schema_texts), (editor.ui_name, ui_texts)):
        texts_name = texts_file(source, LANGUAGE)
        if kept or texts_name in draft.files:
            files[texts_name] = _dumped(kept)
    saved = drafts.save_draft(draft_id, revision, user, files=files)
    editor.draft, editor.revision, editor.is_new = saved, saved.revision, False
    _describe(editor)
    return editor


def preview_form(
    draft_id: int, name: str, texts: FormTexts, sample: forms.coercion.Raw, language: str, *, check: bool = False
) -> Preview:
    """The typed form as applicants see it in ``language`` (its texts file applied), the sample data kept;
    with ``check``, the sample validated exactly as a case's task post validates it (same rules, today)."""
    draft = _draft_and_name(draft_id, name)
    language = language if language in ("en", LANGUAGE) else "en"
    editor = FormEditor(draft, name, ui_schema_name(name), texts, draft.revision)
    documents = _parsed(editor)
    if documents is None:
        return Preview(None, language, problems=[m for ms in editor.errors.values() for m in ms])
    schema, ui, schema_texts, ui_texts = documents
    try:
        forms.load_form(json.dumps(schema), json.dumps(ui), name)  # refused as deployment would refuse it
    except forms.FormError as exc:
        return Preview(None, language, problems=list(exc.problems))
    # The preview stands beside the text areas: a field's ui:autofocus would take the analyst's cursor away.
    shown_ui = {key: _without_autofocus(value) for key, value in ui.items()}
    if language == LANGUAGE:
        schema, shown_ui = localize(schema, schema_texts), localize(shown_ui, ui_texts)
    shown = forms.FormSpec(name=name, schema=schema, ui_schema=shown_ui)
    # Checked with the form in the preview's language, as a case's page checks it in the applicant's: a
    # field's own errorMessage and the format hint (its help) come in that language.
    data, errors = forms.coerce(shown, sample)
    values = forms.known_data(shown, data)
    if not check:
        return Preview(shown, language, values)
    context = type_rule_context(_kitas_type(draft), app_clock().now())
    for key, messages in forms.validate(shown, data, context).items():
        errors.setdefault(key, messages)
    return Preview(shown, language, values, errors, checked=True)


def _without_autofocus(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if key != "ui:autofocus"}
    return value


# -- reading what was typed ----------------------------------------------------------------------


def _draft_and_name(draft_id: int, name: str) -> StudioDraft:
    if not drafts.valid_file_name(name) or not is_form_file(name):
        raise NotFound(Message("there is no form %(name)s", name=name))
    return drafts.get_draft(draft_id)


def _parsed(editor: FormEditor) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], dict[str, str]] | None:
    """The four documents, or None with each text's problem in ``editor.errors``."""
    schema = _json_object(editor, "schema", editor.texts.schema)
    ui = _json_object(editor, "ui_schema", editor.texts.ui_schema or "{}")
    found: list[dict[str, str]] = []
    for key, text, source in (
        ("schema_texts", editor.texts.schema_texts, editor.name),
        ("ui_texts", editor.texts.ui_texts, editor.ui_name),
    ):
        try:
            found.append(parse_texts(text or "{}", texts_file(source, LANGUAGE)))
        except ValueError as exc:
            editor.errors[key] = [Message("These texts cannot be read: %(problem)s", problem=str(exc))]
            found.append({})
    if editor.errors or schema is None or ui is None:
        return None
    return schema, ui, found[0], found[1]


def _json_object(editor: FormEditor, key: str, text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        editor.errors[key] = [
            Message(
                "This is not valid JSON: line %(line)s, column %(column)s: %(problem)s",
                line=exc.lineno,
                column=exc.colno,
                problem=exc.msg,
            )
        ]
        return None
    if not isinstance(parsed, dict):
        editor.errors[key] = [Message("This must be a JSON object: { ... }.")]
        return None
    return parsed


def _form_problems(draft: StudioDraft, name: str, schema: dict[str, Any], ui: dict[str, Any]) -> list[str]:
    """What deployment would refuse in this form: ``check_form``, then its rules (naming any form's fields)."""
    problems = forms.check_form(schema, ui)
    if problems:
        return problems
    form = forms.FormSpec(name=name, schema=schema, ui_schema=ui)
    answers = {f.name for f in form.fields} | _other_fields(draft, name)
    kitas_type = next((t for t in catalog().types if t.process_id == draft.process_id), None)
    return forms.check_rules(form, answers, kitas_type.named_values() if kitas_type is not None else None)


def _other_fields(draft: StudioDraft, name: str) -> set[str]:
    found: set[str] = set()
    for other, text in draft.files.items():
        if other != name and is_form_file(other):
            try:
                properties = json.loads(text).get("properties") or {}
            except (ValueError, AttributeError):
                continue
            found |= set(properties) if isinstance(properties, dict) else set()
    return found


def _place_problems(editor: FormEditor, problems: list[str]) -> None:
    """Problems of the UI schema stand beside it, the rest beside the schema."""
    for problem in problems:
        msgid = getattr(problem, "msgid", str(problem))
        key = "ui_schema" if ("ui:" in msgid or "%(key)s" in msgid or "%(where)s" in msgid) else "schema"
        editor.errors.setdefault(key, []).append(problem)


def _kitas_type(draft: StudioDraft) -> str:
    kitas_type = next((t for t in catalog().types if t.process_id == draft.process_id), None)
    return kitas_type.code if kitas_type is not None else ""


def _describe(editor: FormEditor) -> None:
    """Fill the field list and the untranslated texts from the editor's texts (when they parse); the
    problems already found stay."""
    editor.shared_step = shared_step_of(editor.draft, editor.name)
    found, editor.errors = editor.errors, {}
    documents = _parsed(editor)
    editor.errors = {**editor.errors, **found}
    if documents is None:
        return
    schema, ui, schema_texts, ui_texts = documents
    try:
        spec = forms.FormSpec(name=editor.name, schema=schema, ui_schema=ui)
        editor.fields = [_row(item, schema_texts, ui_texts) for item in spec.fields]
    except (TypeError, AttributeError, ValueError):
        editor.fields = []
    editor.untranslated = missing_texts(schema, schema_texts)[0] + [
        f"{editor.ui_name}: {p}" for p in missing_texts(ui, ui_texts)[0]
    ]


# -- the field list ------------------------------------------------------------------------------


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _kind_of(item: forms.FormField) -> str:
    if item.options and item.type != "array":
        return "choice"
    if item.schema.get("format") == "date":
        return "date"
    return item.type if item.type in FIELD_KINDS else "string"


def _row(item: forms.FormField, schema_texts: dict[str, str], ui_texts: dict[str, str]) -> FieldRow:
    title_ui = "ui:title" in item.ui
    help_ui = "ui:help" in item.ui
    title_id = ui_texts.get(_pointer(item.name, "ui:title")) if title_ui else None
    help_id = ui_texts.get(_pointer(item.name, "ui:help")) if help_ui else None
    labels_id = _choice_labels_id(item, schema_texts, ui_texts)
    choices = "\n".join(
        " = ".join([option.form_value, option.label] + ([labels_id[i]] if labels_id.get(i) else []))
        for i, option in enumerate(item.options)
    )
    return FieldRow(
        name=item.name,
        kind=_kind_of(item),
        required=item.required,
        title=item.title,
        title_id=title_id or schema_texts.get(_pointer("properties", item.name, "title"), ""),
        help=item.help or "",
        help_id=help_id or schema_texts.get(_pointer("properties", item.name, "description"), ""),
        choices=choices,
    )


def _choice_labels_id(item: forms.FormField, schema_texts: dict[str, str], ui_texts: dict[str, str]) -> dict[int, str]:
    if item.schema.get("oneOf") or item.schema.get("anyOf"):
        key = "oneOf" if item.schema.get("oneOf") else "anyOf"
        found = {
            i: schema_texts.get(_pointer("properties", item.name, key, str(i), "title"))
            for i in range(len(item.options))
        }
        return {i: t for i, t in found.items() if t}
    return {
        i: text for i in range(len(item.options)) if (text := ui_texts.get(_pointer(item.name, "ui:enumNames", str(i))))
    }


def _choices(text: str, kind: str) -> list[tuple[Any, str, str]]:
    """``value = label = Indonesian label`` lines; a refusal names the bad line."""
    found: list[tuple[Any, str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("=")]
        value: Any = parts[0]
        if not value:
            raise InvalidInput({"choices": [Message("Line %(line)s has no value before “=”.", line=number)]})
        if kind in ("integer", "number"):
            try:
                value = int(value) if kind == "integer" else float(value)
            except ValueError:
                raise InvalidInput(
                    {"choices": [Message("Line %(line)s: the value must be a number.", line=number)]}
                ) from None
        found.append(
            (value, parts[1] if len(parts) > 1 and parts[1] else str(value), parts[2] if len(parts) > 2 else "")
        )
    if len({value for value, _label, _id in found}) != len(found):
        raise InvalidInput({"choices": [Message("Each choice needs a value of its own.")]})
    return found


def _add_field(
    schema: dict[str, Any], ui: dict[str, Any], schema_texts: dict[str, str], ui_texts: dict[str, str], new: FieldChange
) -> None:
    properties = schema.setdefault("properties", {})
    errors: dict[str, list[str]] = {}
    if not FIELD_NAME.match(new.name):
        errors["name"] = [Message("Use small letters, digits and “_”, starting with a letter (passport_number).")]
    elif new.name in properties:
        errors["name"] = [Message("The form already has a field %(name)s.", name=new.name)]
    if new.kind not in FIELD_KINDS:
        errors["kind"] = [Message("Choose one of the types.")]
    if not new.title.strip():
        errors["title"] = [Message("Give the field a title.")]
    if new.kind == "choice" and not new.choices.strip():
        errors["choices"] = [Message("A choice field needs at least one choice.")]
    if errors:
        raise InvalidInput(errors)
    prop: dict[str, Any] = {"type": "string", "title": new.title.strip()}
    if new.kind == "date":
        prop["format"] = "date"
    elif new.kind in ("number", "integer", "boolean"):
        prop["type"] = new.kind
    properties[new.name] = prop
    order = ui.get("ui:order")
    if isinstance(order, list) and "*" not in order:
        order.append(new.name)
    _write_field(schema, ui, schema_texts, ui_texts, new, prop)


def _change_field(
    schema: dict[str, Any],
    ui: dict[str, Any],
    schema_texts: dict[str, str],
    ui_texts: dict[str, str],
    change: FieldChange,
) -> None:
    prop = (schema.get("properties") or {}).get(change.name)
    if not isinstance(prop, dict):
        raise InvalidInput({"": [Message("The form has no field %(name)s.", name=change.name)]})
    if not change.title.strip():
        raise InvalidInput({"title": [Message("Give the field a title.")]})
    _write_field(schema, ui, schema_texts, ui_texts, change, prop)


def _write_field(
    schema: dict[str, Any],
    ui: dict[str, Any],
    schema_texts: dict[str, str],
    ui_texts: dict[str, str],
    change: FieldChange,
    prop: dict[str, Any],
) -> None:
    """Title, help, required and choices of one field, in the schema, the UI schema and the texts."""
    name = change.name
    found_ui = ui.get(name)
    field_ui: dict[str, Any] = found_ui if isinstance(found_ui, dict) else {}
    prop_pointer = ("properties", name)

    def put(
        document: dict[str, Any], texts: dict[str, str], where: tuple[str, ...], key: str, en: str, id_: str
    ) -> None:
        if en.strip():
            document[key] = en.strip()
        else:
            document.pop(key, None)
        pointer = _pointer(*where, key)
        if id_.strip() and en.strip():
            texts[pointer] = id_.strip()
        else:
            texts.pop(pointer, None)

    if "ui:title" in field_ui:
        put(field_ui, ui_texts, (name,), "ui:title", change.title, change.title_id)
    else:
        put(prop, schema_texts, prop_pointer, "title", change.title, change.title_id)
    if "ui:help" in field_ui:
        put(field_ui, ui_texts, (name,), "ui:help", change.help, change.help_id)
    else:
        put(prop, schema_texts, prop_pointer, "description", change.help, change.help_id)
    required = [n for n in schema.get("required") or [] if n != name]
    if change.required:
        required.append(name)
    schema["required"] = required
    if change.choices.strip() or change.kind == "choice":
        _write_choices(
            prop, field_ui, schema_texts, ui_texts, name, _choices(change.choices, forms.spec.json_type(prop) or "")
        )
    if field_ui:
        ui[name] = field_ui


def _write_choices(
    prop: dict[str, Any],
    field_ui: dict[str, Any],
    schema_texts: dict[str, str],
    ui_texts: dict[str, str],
    name: str,
    choices: list[tuple[Any, str, str]],
) -> None:
    key = "oneOf" if prop.get("oneOf") else ("anyOf" if prop.get("anyOf") else None)
    for pointer in [p for p in ui_texts if p.startswith(_pointer(name, "ui:enumNames") + "/")]:
        del ui_texts[pointer]
    if key is not None:
        for pointer in [p for p in schema_texts if p.startswith(_pointer("properties", name, key) + "/")]:
            del schema_texts[pointer]
        prop[key] = [{"const": value, "title": label} for value, label, _id in choices]
        for i, (_value, _label, label_id) in enumerate(choices):
            if label_id:
                schema_texts[_pointer("properties", name, key, str(i), "title")] = label_id
        return
    prop["enum"] = [value for value, _label, _id in choices]
    field_ui["ui:enumNames"] = [label for _value, label, _id in choices]
    for i, (_value, _label, label_id) in enumerate(choices):
        if label_id:
            ui_texts[_pointer(name, "ui:enumNames", str(i))] = label_id


def _remove_field(schema: dict[str, Any], ui: dict[str, Any], name: str) -> None:
    properties = schema.get("properties") or {}
    if name not in properties:
        raise InvalidInput({"": [Message("The form has no field %(name)s.", name=name)]})
    del properties[name]
    schema["required"] = [n for n in schema.get("required") or [] if n != name]
    ui.pop(name, None)
    order = ui.get("ui:order")
    if isinstance(order, list):
        ui["ui:order"] = [n for n in order if n != name]


def _kept_texts(document: dict[str, Any], texts: dict[str, str]) -> dict[str, str]:
    """The texts whose pointer still names a text of the document (deployment refuses the others)."""
    wanted = {pointer for pointer, _text in text_pointers(document)}
    return {pointer: text for pointer, text in texts.items() if pointer in wanted}


def _dumped(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
