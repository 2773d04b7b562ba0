"""Field-level corrections: what a verifier may tick, what the applicant's correction step opens, what she changed.

The diagram carries the data (bpmn/shared/shared_document_review.bpmn): the verify form's ``correction_items``
hold one row per field or document of the applicant's earlier forms (``field:NAME`` / ``document:NAME``,
ticked or not, a reason); its script ``write_correction_request`` keeps the ticked rows as
``correction_request``. A form that names that variable under ``x-kitas-opens`` (shared-submit-corrections)
opens exactly those fields, as the forms that first asked them define them (schema, ``x-kitas-rules``, and
the whole original form checked again), and those documents for a new upload; everything else stays
read-only. What she changed is kept in the step's ``correction_changes``; ``close_correction_round`` adds
the round to ``correction_rounds``, which the next verification shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import forms
from forms.texts import Message
from workflows import catalog

from ...models import Application
from ..deployments import definition_form, process_model
from .summary import shown_answer

OPENS = "x-kitas-opens"
# The names the verify form and the diagram share with this module.
ITEMS = "correction_items"
CHECKS = "document_checks"
ROUNDS = "correction_rounds"
CHANGES = "correction_changes"
CHECKLIST = ("legible", "matches_form", "dates_valid")

REPLACE_DOCUMENT = Message("Upload a new file: the officer asked for this document to be replaced.")


@dataclass(frozen=True)
class Askable:
    """A field or document of the applicant's earlier forms that a verifier may ask her to correct."""

    key: str  # field:NAME or document:NAME
    name: str
    form: forms.FormSpec  # the form that first asked it
    field: forms.FormField

    @property
    def is_document(self) -> bool:
        """Whether this is a file (replaced by a new upload) rather than an answer."""
        return self.field.widget == "file"


@dataclass(frozen=True)
class Choice:
    """One tick of the workspace: its row in ``correction_items``, whether it is ticked, the reason."""

    index: int
    key: str
    change: bool
    reason: str


@dataclass(frozen=True)
class Check:
    """One document's checklist row in ``document_checks``."""

    index: int
    name: str
    ticked: dict[str, bool]


@dataclass(frozen=True)
class Change:
    """What the applicant changed in one item, as the next verifier reads it."""

    label: str
    old: Any
    new: Any
    is_document: bool


@dataclass
class Round:
    """An earlier correction round: what was asked, what changed, her note."""

    reason: str
    asked: list[tuple[str, str]] = field(default_factory=list)  # label, reason
    changes: list[Change] = field(default_factory=list)
    note: str = ""


@dataclass
class Workspace:
    """The verifier's ticks and checklists (by field name), and the previous round if there was one."""

    choices: dict[str, Choice] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)
    previous: Round | None = None
    titles: dict[str, str] = field(default_factory=dict)  # error key of a tick's reason -> the item's label

    @property
    def document_ids(self) -> set[str]:
        """The documents the previous round's changes name (the replaced ones and their replacements)."""
        changes = self.previous.changes if self.previous else []
        return {str(v) for c in changes if c.is_document for v in (c.old, c.new) if isinstance(v, str) and v}


def askable(application: Application, language: str | None = None) -> dict[str, Askable]:
    """Every field and document of the applicant's forms (where first asked) a correction may name, in order."""
    model = process_model(application.definition)
    lanes = catalog().lanes_of("applicant")
    found: dict[str, Askable] = {}
    for info in model.user_tasks.values():
        if not info.form_schema or info.lane not in lanes:
            continue
        form = definition_form(application.definition, info.form_schema, info.form_ui_schema, language)
        if form.schema.get(OPENS):
            continue  # the correction step itself
        for item in form.fields:
            if item.read_only or item.widget == "hidden" or item.ui.get("ui:apart"):
                continue
            key = f"{'document' if item.widget == 'file' else 'field'}:{item.name}"
            if not any(known.name == item.name for known in found.values()):
                found[key] = Askable(key, item.name, form, item)
    return found


def asked(data: Mapping[str, Any], variable: str) -> dict[str, str]:
    """The items a correction request in ``data[variable]`` (rows of item and reason) names, with their reasons."""
    rows = data.get(variable)
    rows = rows if isinstance(rows, list) else []
    return {
        str(row["item"]): str(row.get("reason") or "")
        for row in rows or []
        if isinstance(row, Mapping) and isinstance(row.get("item"), str)
    }


def opens(form: forms.FormSpec | None) -> str | None:
    """The variable whose correction request the form opens, if it is a correction form."""
    variable = form.schema.get(OPENS) if form is not None else None
    return variable if isinstance(variable, str) else None


def opened_form(
    application: Application, form: forms.FormSpec | None, data: Mapping[str, Any], language: str | None = None
) -> forms.FormSpec | None:
    """A correction form with the asked fields and documents added before its own, each as its own form
    defines it (required where it was); any other form as it is."""
    variable = opens(form)
    if form is None or variable is None:
        return form
    known = askable(application, language)
    properties: dict[str, Any] = {}
    ui: dict[str, Any] = {}
    required: list[str] = []
    for key in asked(data, variable):
        item = known.get(key)
        if item is None:
            continue
        properties[item.name] = item.field.schema
        ui[item.name] = item.field.ui
        if item.field.required:
            required.append(item.name)
    own = dict(form.schema.get("properties") or {})
    schema = {
        **form.schema,
        "properties": {**own, **properties},
        "required": [*required, *(form.schema.get("required") or [])],
    }
    # The officer's words (read-only) first, then the fields she must correct, then the step's own inputs.
    order = [item.name for item in form.fields]
    shown_first = [item.name for item in form.fields if item.read_only]
    rest = [name for name in order if name not in shown_first]
    ui_schema = {**form.ui_schema, **ui, "ui:order": [*shown_first, *properties, *rest]}
    return forms.FormSpec(name=form.name, schema=schema, ui_schema=ui_schema)


def reasons(application: Application, form: forms.FormSpec | None, data: Mapping[str, Any]) -> dict[str, str]:
    """The officer's reason for each field the correction form opened, by field name."""
    variable = opens(form)
    if variable is None:
        return {}
    return {key.partition(":")[2]: reason for key, reason in asked(data, variable).items()}


def problems(
    application: Application,
    form: forms.FormSpec,
    answers: Mapping[str, Any],
    data: Mapping[str, Any],
    context: forms.RuleContext,
) -> dict[str, list[str]]:
    """What is wrong with a correction beyond its own fields' checks: each asked field checked again inside
    the whole form that first asked it (its ``if``/``then`` and rules across fields), a document asked for
    and not replaced."""
    variable = opens(form)
    if variable is None:
        return {}
    known = askable(application)
    errors: dict[str, list[str]] = {}
    by_form: dict[str, tuple[forms.FormSpec, set[str]]] = {}
    for key in asked(answers, variable):
        item = known.get(key)
        if item is None or form.field(item.name) is None:
            continue
        if item.is_document:
            if not data.get(item.name) or data.get(item.name) == answers.get(item.name):
                errors[item.name] = [REPLACE_DOCUMENT]
            continue
        by_form.setdefault(item.form.name, (item.form, set()))[1].add(item.name)
    for original, names in by_form.values():
        merged = {**answers, **data}
        for key, messages in forms.validate(original, merged, context).items():
            if key.split(".")[0] in names:
                errors.setdefault(key, messages)
    return errors


def changes(form: forms.FormSpec, answers: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The asked items whose value the applicant changed: ``{"item", "old", "new"}`` each."""
    variable = opens(form)
    if variable is None:
        return []
    found = []
    for key in asked(answers, variable):
        name = key.partition(":")[2]
        if form.field(name) is not None and answers.get(name) != data.get(name):
            found.append({"item": key, "old": answers.get(name), "new": data.get(name)})
    return found


def workspace(
    application: Application,
    form: forms.FormSpec | None,
    values: Mapping[str, Any],
    data: Mapping[str, Any],
    language: str | None = None,
) -> Workspace | None:
    """The verifier's ticks, checklists and previous round, for a form with ``correction_items``; else None."""
    if form is None or form.field(ITEMS) is None:
        return None
    known = askable(application, language)
    posted = {row.get("item"): row for row in values.get(ITEMS) or [] if isinstance(row, Mapping)}
    space = Workspace()
    for index, item in enumerate(known.values()):
        row = posted.get(item.key) or {}
        space.choices[item.name] = Choice(index, item.key, row.get("change") is True, str(row.get("reason") or ""))
        space.titles[f"{ITEMS}.{index}.reason"] = item.field.review_title
    checked = {row.get("document"): row for row in values.get(CHECKS) or [] if isinstance(row, Mapping)}
    documents = [item.name for item in known.values() if item.is_document and data.get(item.name)]
    for index, name in enumerate(documents):
        row = checked.get(name) or {}
        space.checks[name] = Check(index, name, {box: row.get(box) is True for box in CHECKLIST})
    rounds = data.get(ROUNDS)
    if isinstance(rounds, list) and rounds and isinstance(rounds[-1], Mapping):
        space.previous = _round(rounds[-1], known)
    return space


def _round(stored: Mapping[str, Any], known: Mapping[str, Askable]) -> Round:
    def label(key: str) -> str:
        item = known.get(key)
        return item.field.review_title if item else key.partition(":")[2]

    found = Round(str(stored.get("reason") or ""), note=str(stored.get("note") or ""))
    found.asked = [(label(key), reason) for key, reason in asked(stored, "items").items()]
    for row in stored.get("changes") or []:
        if isinstance(row, Mapping) and isinstance(row.get("item"), str):
            item = known.get(row["item"])
            document = item.is_document if item else row["item"].startswith("document:")
            old, new = row.get("old"), row.get("new")
            if item is not None and not document:  # option labels, not codes; rows as lines
                old = None if old is None else shown_answer(item.field, old)
                new = None if new is None else shown_answer(item.field, new)
            found.changes.append(Change(label(row["item"]), old, new, document))
    return found
