"""Deploy versions of diagrams and load the process model of a deployed version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from sqlalchemy import func, select

import forms
from engine import DiagramError, ProcessModel, content_hash, parse_process
from workflows import catalog

from ...extensions import app_clock, db
from ...models import ProcessDefinition, User
from ...transactions import write_transaction
from .. import audit
from ..errors import DeploymentRefused, ServiceError

_MODELS: dict[str, ProcessModel] = {}  # keyed by content, so a recreated database cannot alias
_MODELS_LOCK = Lock()
_FORMS: dict[str, forms.FormSpec] = {}


@dataclass(frozen=True)
class DeployResult:
    """The outcome of a deployment: the version now current, and whether it is new."""

    definition_id: int
    process_id: str
    version: int
    created: bool


def collect_files(bpmn_path: Path, forms_dir: Path) -> tuple[str, dict[str, str]]:
    """Read a diagram and the files it needs: every decision table beside it and its forms."""
    if not bpmn_path.is_file():
        raise DeploymentRefused([(str(bpmn_path.name), "the diagram file does not exist")])
    bpmn = bpmn_path.read_text(encoding="utf-8")
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(bpmn_path.parent.glob("*.dmn"))}
    for name in _referenced_forms(bpmn, files):
        path = forms_dir / name
        if path.is_file():
            files[name] = path.read_text(encoding="utf-8")
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
    stored = {**{n: form_files[n] for n in sorted(model.form_files())}, **used_decisions}
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
    for info in model.user_tasks.values():
        if info.form_schema and info.form_schema in form_files:
            try:
                form = forms.load_form(
                    form_files[info.form_schema], form_files.get(info.form_ui_schema or ""), info.form_schema
                )
                problems.extend(
                    (info.element_id, f"{info.form_schema}: {p}") for p in forms.check_form(form.schema, form.ui_schema)
                )
            except forms.FormError as exc:
                problems.append((info.element_id, str(exc)))
    if problems:
        raise DeploymentRefused(problems)
    return model


def _decision_files_used(model: ProcessModel, decisions: dict[str, str]) -> dict[str, str]:
    if not model.decisions:
        return {}
    used = {}
    for name, text in decisions.items():
        if any(f'id="{decision}"' in text for decision in model.decisions):
            used[name] = text
    return used


def definition_form(definition: ProcessDefinition, schema_file: str, ui_file: str | None) -> forms.FormSpec:
    """A form of a deployed version, parsed once per process (deployed content never changes)."""
    key = f"{definition.process_id}:{definition.content_hash}:{schema_file}"
    form = _FORMS.get(key)
    if form is None:
        files = definition.files
        if schema_file not in files:
            raise ServiceError(
                f"version {definition.version} of {definition.process_id} lacks its form {schema_file}; redeploy it"
            )
        form = forms.load_form(files[schema_file], files.get(ui_file or ""), schema_file, check=False)
        _FORMS[key] = form
    return form


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
