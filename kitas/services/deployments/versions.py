"""Deploy versions of diagrams and load the process model of a deployed version.

A version's files include the translations kept beside the diagram and beside each form
(``kitas_worker.id.json``, ``worker-x.schema.id.json``: JSON pointer -> text, see
:mod:`forms.texts`); a form and an element name are read in a language from them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from sqlalchemy import func, select

import forms
from engine import DiagramError, ProcessModel, content_hash, parse_process
from forms.texts import LANGUAGES, SOURCE_LANGUAGE, Message, localize, missing_texts, parse_texts
from workflows import catalog

from ...extensions import app_clock, db
from ...models import ProcessDefinition, User
from ...transactions import write_transaction
from .. import audit
from ..errors import DeploymentRefused, ServiceError

_MODELS: dict[str, ProcessModel] = {}  # keyed by content, so a recreated database cannot alias
_MODELS_LOCK = Lock()
_FORMS: dict[str, forms.FormSpec] = {}
_NAMES: dict[str, dict[str, str]] = {}
# The languages texts are translated into; the source language is the files themselves.
TRANSLATED = tuple(language for language in LANGUAGES if language != SOURCE_LANGUAGE)


def texts_file(name: str, language: str) -> str:
    """The translations file beside a file: ``worker-x.schema.json`` -> ``worker-x.schema.id.json``,
    ``kitas_worker.bpmn`` -> ``kitas_worker.id.json``."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem}.{language}.json"


def _texts_language(name: str) -> str | None:
    """The language of a translations file (``x.id.json``), None for any other file."""
    return next((language for language in TRANSLATED if name.endswith(f".{language}.json")), None)


@dataclass(frozen=True)
class DeployResult:
    """The outcome of a deployment: the version now current, and whether it is new."""

    definition_id: int
    process_id: str
    version: int
    created: bool


def collect_files(bpmn_path: Path, forms_dir: Path) -> tuple[str, dict[str, str]]:
    """Read a diagram and the files it needs: every decision table beside it, its forms, and the
    translations beside the diagram and beside each form."""
    if not bpmn_path.is_file():
        raise DeploymentRefused([(str(bpmn_path.name), "the diagram file does not exist")])
    bpmn = bpmn_path.read_text(encoding="utf-8")
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(bpmn_path.parent.glob("*.dmn"))}
    for language in TRANSLATED:
        texts = bpmn_path.with_name(texts_file(bpmn_path.name, language))
        if texts.is_file():
            files[texts.name] = texts.read_text(encoding="utf-8")
    for name in sorted(_referenced_forms(bpmn, {n: t for n, t in files.items() if n.endswith(".dmn")})):
        for file_name in (name, *(texts_file(name, language) for language in TRANSLATED)):
            path = forms_dir / file_name
            if path.is_file():
                files[file_name] = path.read_text(encoding="utf-8")
    return bpmn, files


def _referenced_forms(bpmn: str, decisions: dict[str, str]) -> set[str]:
    try:
        model = parse_process(bpmn, decisions, validate_schema=False)
    except DiagramError:
        return set()  # the real deployment reports the problem
    return model.form_files()


def deploy(bpmn: str, files: dict[str, str], deployed_by: User | None = None, actor: str = "cli") -> DeployResult:
    """Validate and store a new version of a diagram; identical content returns the current version."""
    decisions = {name: text for name, text in files.items() if name.endswith(".dmn")}
    form_files = {name: text for name, text in files.items() if not name.endswith(".dmn")}
    model = _validate(bpmn, decisions, form_files)
    used_decisions = _decision_files_used(model, decisions)
    used_texts = _check_texts(model, form_files)
    stored = {**{n: form_files[n] for n in sorted(model.form_files())}, **used_decisions, **used_texts}
    digest = content_hash(bpmn, stored)
    label = deployed_by.label if deployed_by is not None else actor
    with write_transaction():
        # The head of the process's deployment chain serializes its deployments: versions cannot collide.
        chain = audit.process_chain(model.process_id)
        audit.lock_chain(chain)
        existing = db.session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_id == model.process_id, ProcessDefinition.content_hash == digest
            )
        ).first()
        if existing is not None:
            return DeployResult(existing.id, existing.process_id, existing.version, created=False)
        latest = db.session.scalar(
            select(func.max(ProcessDefinition.version)).where(ProcessDefinition.process_id == model.process_id)
        )
        definition = ProcessDefinition(
            process_id=model.process_id,
            version=(latest or 0) + 1,
            name=model.name,
            content_hash=digest,
            bpmn_xml=bpmn,
            files=stored,
            deployed_by_id=deployed_by.id if deployed_by is not None else None,
            deployed_by=label,
            deployed_at=app_clock().now(),
        )
        db.session.add(definition)
        db.session.flush()
        audit.record(
            "definition_deployed",
            {"process_id": model.process_id, "version": definition.version, "hash": digest},
            user=deployed_by,
            actor=label,
            chain=chain,
        )
        result = DeployResult(definition.id, definition.process_id, definition.version, created=True)
    return result


def deploy_path(bpmn_path: Path, forms_dir: Path, deployed_by: User | None = None, actor: str = "cli") -> DeployResult:
    """Deploy a diagram file with the decision tables beside it and the forms it references."""
    bpmn, files = collect_files(bpmn_path, forms_dir)
    return deploy(bpmn, files, deployed_by, actor)


def deploy_all(bpmn_dir: Path, forms_dir: Path, actor: str = "cli") -> list[DeployResult]:
    """Deploy every diagram under ``bpmn_dir`` (already-deployed content is left as it is)."""
    return [deploy_path(path, forms_dir, actor=actor) for path in sorted(bpmn_dir.glob("*.bpmn"))]


def _validate(bpmn: str, decisions: dict[str, str], form_files: dict[str, str]) -> ProcessModel:
    try:
        model = parse_process(bpmn, decisions, form_files=form_files, known_lanes=catalog().lane_roles)
    except DiagramError as exc:
        raise DeploymentRefused(exc.problems) from exc
    problems: list[tuple[str, str]] = []
    loaded: dict[str, forms.FormSpec] = {}
    for info in model.user_tasks.values():
        if info.form_schema and info.form_schema in form_files:
            try:
                form = forms.load_form(
                    form_files[info.form_schema], form_files.get(info.form_ui_schema or ""), info.form_schema
                )
                problems.extend(
                    (info.element_id, f"{info.form_schema}: {p}") for p in forms.check_form(form.schema, form.ui_schema)
                )
                loaded[info.element_id] = form
            except forms.FormError as exc:
                problems.append((info.element_id, str(exc)))
    problems.extend(_rule_problems(model, loaded))
    if problems:
        raise DeploymentRefused(problems)
    return model


def _rule_problems(model: ProcessModel, loaded: dict[str, forms.FormSpec]) -> list[tuple[str, str]]:
    """The problems of every form's ``x-kitas-rules``: a rule may name a field of any form of the diagram
    (an earlier answer) and the numbers of the catalog entry of this process."""
    answers = {f.name for form in loaded.values() for f in form.fields}
    kitas_type = next((t for t in catalog().types if t.process_id == model.process_id), None)
    values = dict(kitas_type.rule_values) if kitas_type is not None else None
    return [
        (element_id, f"{form.name}: {problem}")
        for element_id, form in loaded.items()
        for problem in forms.check_rules(form, answers, values)
    ]


def _check_texts(model: ProcessModel, files: dict[str, str]) -> dict[str, str]:
    """The translations files the version keeps: those of the forms it uses and the diagram's.

    A file that is not valid, or names a pointer its form (or an element id the diagram) does not
    have, refuses the deployment, naming the file. A text without translation is allowed (the
    English one shows); the shipped files are checked complete by the tests."""
    used_forms = model.form_files()
    problems: list[tuple[str, str]] = []
    kept: dict[str, str] = {}
    for name, text in sorted(files.items()):
        language = _texts_language(name)
        if language is None:
            continue
        source = name.removesuffix(f".{language}.json") + ".json"
        if source in files and source not in used_forms:
            continue  # the translations of a form this diagram does not use
        try:
            texts = parse_texts(text, name)
        except ValueError as exc:
            problems.append((name, str(exc)))
            continue
        if source in files:
            try:
                document = json.loads(files[source])
            except ValueError:
                continue  # the form itself was refused already
            stale = missing_texts(document, texts)[1]
            what = f"{source} has no text at"
        else:
            stale = sorted(set(texts) - {f"/{element}" for element in model.element_names})
            what = "the diagram has no named element"
        if stale:
            problems.append((name, f"{what} {', '.join(stale)}"))
        kept[name] = text
    diagram_texts = [n for n in kept if n.removesuffix(f".{_texts_language(n)}.json") + ".json" not in files]
    for language in TRANSLATED:
        of_language = [n for n in diagram_texts if n.endswith(f".{language}.json")]
        if len(of_language) > 1:
            problems.append((of_language[1], f"a second translations file for the diagram (besides {of_language[0]})"))
    if problems:
        raise DeploymentRefused(problems)
    return kept


def _decision_files_used(model: ProcessModel, decisions: dict[str, str]) -> dict[str, str]:
    if not model.decisions:
        return {}
    used = {}
    for name, text in decisions.items():
        if any(f'id="{decision}"' in text for decision in model.decisions):
            used[name] = text
    return used


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
    suffix = f".{language}.json"
    for name in sorted(files):
        if name.endswith(suffix) and name.removesuffix(suffix) + ".json" not in files:
            return _parsed(files, name)
    return {}


def latest_definition(process_id: str) -> ProcessDefinition | None:
    """The newest deployed version of a process, which new cases use."""
    return db.session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first()


def process_model(definition: ProcessDefinition) -> ProcessModel:
    """The parsed model of a deployed version, parsed once per process (versions never change)."""
    key = f"{definition.process_id}:{definition.content_hash}"
    model = _MODELS.get(key)
    if model is not None:
        return model
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            decisions = {n: t for n, t in definition.files.items() if n.endswith(".dmn")}
            model = parse_process(definition.bpmn_xml, decisions, validate_schema=False)
            _MODELS[key] = model
    return model
