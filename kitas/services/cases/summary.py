"""What a case's earlier forms said, laid out for the people who review it (sponsor, officers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import forms
from forms.spec import BOOLEAN_OPTIONS_LABELS
from workflows import catalog

from ...models import Application
from ..deployments import definition_form, process_model


@dataclass(frozen=True)
class SummaryRow:
    """One answer: its label, its value, and whether the value is a stored document's id."""

    label: str
    value: Any
    is_document: bool = False
    name: str = ""  # the field's name in the case data


@dataclass
class CaseSection:
    """The answers of one earlier task of the case."""

    title: str
    rows: list[SummaryRow] = field(default_factory=list)
    element_id: str | None = None  # the task whose form asked these
    role: str | None = None  # who answered: the role of the task's lane (applicant, sponsor, verifier...)

    @property
    def document_ids(self) -> set[str]:
        """The ids of the documents this section shows."""
        return {str(row.value) for row in self.rows if row.is_document and row.value}


def summary_sections(
    application: Application,
    data: Mapping[str, Any],
    *,
    exclude: str | None = None,
    lanes: set[str] | None = None,
    language: str | None = None,
    review: bool = False,
) -> list[CaseSection]:
    """One section per earlier task whose form has answers in ``data``, in diagram order.

    ``lanes`` limits the tasks to those lanes (None: every lane); each field is shown once,
    where it was first asked. Titles and labels in ``language`` (English without one); with
    ``review``, in the words the forms give the people who review the answers (``ui:reviewTitle``,
    ``ui:reviewEnumNames``), not those of the person who gave them.
    """
    model = process_model(application.definition)
    seen: set[str] = set()
    sections = []
    for info in model.user_tasks.values():
        if info.element_id == exclude or not info.form_schema or (lanes is not None and info.lane not in lanes):
            continue
        form = definition_form(application.definition, info.form_schema, info.form_ui_schema, language)
        title = form.review_title if review else form.title
        section = CaseSection(title, element_id=info.element_id, role=catalog().role_for_lane(info.lane or ""))
        for item in form.fields:
            if item.name in seen or item.name not in data or data[item.name] in (None, "", []):
                continue
            # Shown by its own page (the verifier's ticks and checklists), or a value of the page, not an
            # answer (the chosen slot's number).
            if item.ui.get("ui:apart") or item.widget == "hidden":
                continue
            seen.add(item.name)
            label = item.review_title if review else item.title
            shown = _shown(item, data[item.name], review)
            section.rows.append(SummaryRow(label, shown, item.widget == "file", item.name))
        if section.rows:
            sections.append(section)
    return sections


def field_titles(application: Application, language: str | None = None) -> dict[str, str]:
    """Every field of the case's forms by its title in ``language`` (where it was first asked)."""
    model = process_model(application.definition)
    titles: dict[str, str] = {}
    for info in model.user_tasks.values():
        if info.form_schema:
            form = definition_form(application.definition, info.form_schema, info.form_ui_schema, language)
            for item in form.fields:
                titles.setdefault(item.name, item.review_title)
    return titles


def described(application: Application, data: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    """Fields of the case data in words, titled as their forms title them: ``Office: Denpasar · Date: ...``."""
    model = process_model(application.definition)
    found: dict[str, forms.FormField] = {}
    for info in model.user_tasks.values():
        if info.form_schema:
            form = definition_form(application.definition, info.form_schema, info.form_ui_schema)
            for item in form.fields:
                found.setdefault(item.name, item)
    parts = [
        f"{found[name].title}: {_shown(found[name], data[name])}" if name in found else f"{name}: {data[name]}"
        for name in names
        if data.get(name) not in (None, "", [])
    ]
    return " · ".join(parts) or None


def document_ids(form: forms.FormSpec | None, values: Mapping[str, Any]) -> set[str]:
    """The document ids a form's file fields hold in ``values``."""
    if form is None:
        return set()
    return {str(values[f.name]) for f in form.fields if f.widget == "file" and values.get(f.name)}


def shown_answer(item: forms.FormField, value: Any) -> Any:
    """An answer as a reviewer reads it (option labels, rows as lines), for pages that show one on its own."""
    return _shown(item, value, review=True)


def _shown(item: forms.FormField, value: Any, review: bool = False) -> Any:
    """A value as a reviewer reads it: option labels instead of codes, rows as short lines."""
    if item.options:
        options = item.review_options if review and item.review_options else item.options
        labels = {option.form_value: option.label for option in options}
        if isinstance(value, list):
            return ", ".join(labels.get(_text(v), _text(v)) for v in value)
        return labels.get(_text(value), _text(value))
    if isinstance(value, bool):
        return BOOLEAN_OPTIONS_LABELS[0] if value else BOOLEAN_OPTIONS_LABELS[1]
    if isinstance(value, list) and item.items:
        return [
            "; ".join(f"{sub.title}: {row.get(sub.name)}" for sub in item.items if row.get(sub.name) not in (None, ""))
            for row in value
            if isinstance(row, Mapping)
        ]
    return value


def _text(value: Any) -> str:
    return forms.Option(value, "").form_value
