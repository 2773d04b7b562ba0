"""What pages read of a deployed version: its parsed process model, a form in a language, the names of its
elements; each parsed once per content (deployed content never changes)."""

from __future__ import annotations

from threading import Lock

import forms
from engine import (
    ProcessModel,
    parse_process,
)
from forms.texts import Message, localize, parse_texts

from ...models import ProcessDefinition
from ..errors import ServiceError
from .versions import CALLED, TRANSLATED, called_diagrams, texts_file

_MODELS: dict[str, ProcessModel] = {}  # keyed by content, so a recreated database cannot alias
_MODELS_LOCK = Lock()
_FORMS: dict[str, forms.FormSpec] = {}
_NAMES: dict[str, dict[str, str]] = {}


def definition_form(
    definition: ProcessDefinition, schema_file: str, ui_file: str | None, language: str | None = None
) -> forms.FormSpec:
    """A form of a deployed version in ``language`` (English without one, or without its texts),
    parsed once per process and language (deployed content never changes)."""
    language = language if language in TRANSLATED else None
    key = f"{definition.process_id}:{definition.content_hash}:{schema_file}:{ui_file}:{language}"
    form = _FORMS.get(key)
    if form is None:
        files = definition.files
        if schema_file not in files:
            raise ServiceError(
                Message(
                    "Version %(version)s of %(process)s lacks its form %(form)s; redeploy it.",
                    version=definition.version,
                    process=definition.process_id,
                    form=schema_file,
                )
            )
        form = forms.load_form(files[schema_file], files.get(ui_file or ""), schema_file, check=False)
        if language is not None:
            form = forms.FormSpec(
                name=form.name,
                schema=localize(form.schema, _texts_of(files, schema_file, language)),
                ui_schema=localize(form.ui_schema, _texts_of(files, ui_file, language)),
            )
        _FORMS[key] = form
    return form


def _texts_of(files: dict[str, str], name: str | None, language: str) -> dict[str, str]:
    """The translations kept beside a deployed file (none when it has no such file)."""
    return _parsed(files, texts_file(name, language)) if name else {}


def _parsed(files: dict[str, str], texts_name: str) -> dict[str, str]:
    text = files.get(texts_name)
    if not text:
        return {}
    try:
        return parse_texts(text, texts_name)
    except ValueError:
        return {}  # checked at deployment; an older version without the check shows English


def element_names(definition: ProcessDefinition, language: str | None = None) -> dict[str, str]:
    """Element id -> the name people read (tasks, events...) of a deployed version, in ``language``
    where the diagram's translations have it, else the analyst's English name."""
    model = process_model(definition)
    language = language if language in TRANSLATED else None
    if language is None:
        return model.element_names
    key = f"{definition.process_id}:{definition.content_hash}:{language}"
    names = _NAMES.get(key)
    if names is None:
        texts = _diagram_texts(definition.files, language)
        names = {element: texts.get(f"/{element}", name) for element, name in model.element_names.items()}
        _NAMES[key] = names
    return names


def element_name(definition: ProcessDefinition, element_id: str, language: str | None = None) -> str:
    """One element's name in ``language`` (its English name without a translation, its id without a name)."""
    return element_names(definition, language).get(element_id, element_id)


def _diagram_texts(files: dict[str, str], language: str) -> dict[str, str]:
    """The element names of a version in ``language``: the diagram's and those of the diagrams it calls."""
    suffix = f".{language}.json"
    texts: dict[str, str] = {}
    # The called diagrams' first, the diagram's own last (element ids are unique across the bundle anyway).
    for name in sorted(files, key=lambda n: (not n.startswith(CALLED), n)):
        if name.endswith(suffix) and name.removesuffix(suffix) + ".json" not in files:
            texts.update(_parsed(files, name))
    return texts


def process_model(definition: ProcessDefinition) -> ProcessModel:
    """The parsed model of a deployed version, parsed once per process (versions never change)."""
    key = f"{definition.process_id}:{definition.content_hash}"
    model = _MODELS.get(key)
    if model is not None:
        return model
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            files = definition.files
            decisions = {n: t for n, t in files.items() if n.endswith(".dmn")}
            model = parse_process(
                definition.bpmn_xml,
                decisions,
                called=called_diagrams(files),
                validate_schema=False,
                process_id=definition.process_id,
            )
            _MODELS[key] = model
    return model
