"""The documents a type asks for, with their format rules, read from the forms the upload step shows.

The list is the file fields of the deployed version's applicant steps that every case goes through
(``document_checklist``; a correction step is not one), in the order of the diagram and of each form,
so the page says exactly what the upload step will ask: each field's title and description in the
reader's language, whether it is required, the formats (the field's ``image`` rule, else the formats
every upload may be in), the largest size (the smaller of the upload limit and the rule's) and the
picture rules. Without a deployed diagram the catalog's list of documents is all there is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import forms
from engine.outline import OutlineStep
from workflows import KitasType, catalog

from ...models import ProcessDefinition
from ..deployments import definition_form
from ..documents import accepted_formats, megabytes, upload_limit


@dataclass(frozen=True)
class ChecklistItem:
    """One document to upload and the rules it must meet."""

    key: str
    title: str
    description: str | None
    required: bool
    formats: tuple[str, ...]  # JPEG, PDF, PNG
    max_bytes: int
    min_bytes: int | None = None
    min_width: int | None = None
    min_height: int | None = None
    step: str | None = None  # the element id of the step that asks for it (None: from the catalog)

    @property
    def max_size(self) -> str:
        """The largest file, counted as the refusal of a bigger one counts it (``5 MB``, ``2 MB``)."""
        if self.max_bytes == upload_limit():
            return megabytes(self.max_bytes)
        return _kilobytes(self.max_bytes)

    @property
    def min_size(self) -> str | None:
        """The smallest file a picture rule accepts (``10 kB``), if it names one."""
        return _kilobytes(self.min_bytes) if self.min_bytes else None


def checklist(
    definition: ProcessDefinition, steps: tuple[OutlineStep, ...], language: str | None
) -> tuple[ChecklistItem, ...]:
    """The file fields of the applicant's steps every case goes through, as the upload step shows them."""
    applicant_lanes = catalog().lanes_of("applicant")
    found: dict[str, ChecklistItem] = {}
    for step in steps:
        if step.optional or step.lane not in applicant_lanes or not step.form_schema:
            continue
        form = definition_form(definition, step.form_schema, step.form_ui_schema, language)
        required = set(form.schema.get("required", ()))
        for field in form.fields:
            if field.widget == "file" and field.name not in found:
                found[field.name] = _item(field, field.name in required, step.element_id)
    return tuple(found.values())


def catalog_checklist(kitas_type: KitasType) -> tuple[ChecklistItem, ...]:
    """The catalog's documents of a type whose diagram is not deployed: names, and the formats of any upload."""
    return tuple(
        ChecklistItem(doc.key, doc.name, None, True, accepted_formats(), upload_limit()) for doc in kitas_type.documents
    )


def _item(field: forms.FormField, required: bool, step: str) -> ChecklistItem:
    image = _image_rule(field.schema)
    limit = upload_limit()
    formats = accepted_formats()
    if image is not None:
        named = tuple(str(f).upper() for f in image.get("formats") or ())
        formats = named or formats
        if isinstance(image.get("max_bytes"), int):
            limit = min(limit, int(image["max_bytes"]))
    return ChecklistItem(
        key=field.name,
        title=field.title,
        description=field.schema.get("description") or field.help,
        required=required,
        formats=formats,
        max_bytes=limit,
        min_bytes=_number(image, "min_bytes"),
        min_width=_number(image, "min_width"),
        min_height=_number(image, "min_height"),
        step=step,
    )


def _image_rule(schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((rule for rule in schema.get("x-kitas-rules") or () if rule.get("rule") == "image"), None)


def _number(rule: Mapping[str, Any] | None, name: str) -> int | None:
    value = (rule or {}).get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kilobytes(size: int) -> str:
    """A picture rule's size in thousands of bytes, as its refusal counts (``forms.rules``): ``10 kB``, ``2 MB``."""
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000} MB"
    return f"{round(size / 1000)} kB"
