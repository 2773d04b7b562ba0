"""Deploy versions of diagrams and load the process model of a deployed version.

A version's files include the translations kept beside the diagram and beside each form
(``kitas_worker.id.json``, ``worker-x.schema.id.json``: JSON pointer -> text, see
:mod:`forms.texts`); a form and an element name are read in a language from them.

Shared steps (``bpmn/shared/``) are processes of their own, deployed like any diagram. A diagram
that calls one (``callActivity calledElement="shared_payment"``) bundles the LATEST deployed version
of it into its own version: ``called/shared_payment.bpmn``, its translations as
``called/shared_payment.id.json``, its forms, form texts and decision tables under their own names;
so a case pins the shared steps with its definition. Deploying a new version of a shared step
deploys a new version of every process whose latest version calls it (in the same transaction,
``deployed_by`` naming the shared step's version), so new cases of every type get it while
running cases keep theirs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from threading import Lock

from lxml import etree
from sqlalchemy import func, select

import forms
from engine import (
    DiagramError,
    ProcessModel,
    called_elements,
    content_hash,
    decode_bpmn,
    named_forms,
    parse_process,
    plain_file_name,
    read_process_id,
)
from forms.texts import LANGUAGES, SOURCE_LANGUAGE, Message, localize, missing_texts, parse_texts
from workflows import catalog

from ...extensions import app_clock, db
from ...models import ProcessDefinition, User
from ...transactions import in_write_transaction, write_transaction
from .. import audit
from ..errors import DeploymentRefused, ServiceError

_MODELS: dict[str, ProcessModel] = {}  # keyed by content, so a recreated database cannot alias
_MODELS_LOCK = Lock()
_FORMS: dict[str, forms.FormSpec] = {}
_NAMES: dict[str, dict[str, str]] = {}
# The languages texts are translated into; the source language is the files themselves.
TRANSLATED = tuple(language for language in LANGUAGES if language != SOURCE_LANGUAGE)
# Where a version keeps the diagrams of the processes it calls (and their translations).
CALLED = "called/"
# The folder of the shared steps, beside the type diagrams.
SHARED_DIR = "shared"


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
    """The outcome of a deployment: the version now current, and whether it is new; for a shared step,
    the new versions of the processes that call it (``callers``)."""

    definition_id: int
    process_id: str
    version: int
    created: bool
    because: str | None = None  # why a caller was deployed again: "shared_payment version 2"
    callers: tuple[DeployResult, ...] = ()


def called_diagrams(files: dict[str, str]) -> dict[str, str]:
    """The diagrams a version bundles for its call activities: process id -> BPMN text."""
    return {
        name.removeprefix(CALLED).removesuffix(".bpmn"): text
        for name, text in files.items()
        if name.startswith(CALLED) and name.endswith(".bpmn")
    }


def collect_files(bpmn_path: Path, forms_dir: Path) -> tuple[str, dict[str, str]]:
    """Read a diagram and the files it needs: every decision table beside it (a shared step also those
    of the folder above), its forms (those of the shared steps it calls included, found in
    ``shared/`` beside it), and the translations beside the diagram and beside each form.

    Diagrams and decision tables are read as their XML declaration says (Latin-1 bytes in a file that
    says UTF-8 are forgiven); a file that cannot be read, and a form name that is not a plain file name
    (``../secret.json``), are refused naming it. The shared steps themselves are not among the files:
    deployment bundles their deployed versions."""
    if not bpmn_path.is_file():
        raise DeploymentRefused([(str(bpmn_path.name), "the diagram file does not exist")])
    bpmn = _read_xml(bpmn_path)
    folders = [bpmn_path.parent]
    if bpmn_path.parent.name == SHARED_DIR:
        folders.append(bpmn_path.parent.parent)
    files: dict[str, str] = {}
    for folder in reversed(folders):  # the diagram's own folder wins
        files.update({p.name: _read_xml(p) for p in sorted(folder.glob("*.dmn"))})
    for language in TRANSLATED:
        texts = bpmn_path.with_name(texts_file(bpmn_path.name, language))
        if texts.is_file():
            files[texts.name] = _read_text(texts)
    decisions = {n: t for n, t in files.items() if n.endswith(".dmn")}
    called = _called_on_disk(bpmn, bpmn_path)
    for name in sorted(_referenced_forms(bpmn, decisions, called)):
        if not plain_file_name(name):
            continue  # refused by the engine, naming the task; never read from outside the forms folder
        for file_name in (name, *(texts_file(name, language) for language in TRANSLATED)):
            path = forms_dir / file_name
            if path.is_file():
                files[file_name] = _read_text(path)
    return bpmn, files


def _read_xml(path: Path) -> str:
    """A diagram or decision table file's text, decoded as its XML declaration says."""
    try:
        return decode_bpmn(path.read_bytes())
    except DiagramError as exc:
        raise DeploymentRefused([(path.name, why) for _element, why in exc.problems]) from exc
    except OSError as exc:
        raise DeploymentRefused([(path.name, f"the file cannot be read: {exc.strerror or exc}")]) from exc


def _read_text(path: Path) -> str:
    """A form or translations file's text (UTF-8), refused naming the file when it is not."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DeploymentRefused(
            [(path.name, f"the file is not UTF-8 text (byte {exc.start + 1} cannot be read); save it as UTF-8")]
        ) from exc
    except OSError as exc:
        raise DeploymentRefused([(path.name, f"the file cannot be read: {exc.strerror or exc}")]) from exc


def _called_on_disk(bpmn: str, bpmn_path: Path) -> dict[str, str]:
    """The diagrams of the processes a diagram calls, read from the shared steps' folder (recursively)."""
    shared = bpmn_path.parent if bpmn_path.parent.name == SHARED_DIR else bpmn_path.parent / SHARED_DIR
    found: dict[str, str] = {}
    try:
        wanted = list(called_elements(bpmn).values())
    except DiagramError:
        return found
    while wanted:
        process_id = wanted.pop()
        path = shared / f"{process_id}.bpmn"
        if process_id in found or not plain_file_name(f"{process_id}.bpmn") or not path.is_file():
            continue
        found[process_id] = _read_xml(path)
        try:
            wanted.extend(called_elements(found[process_id]).values())
        except DiagramError:
            continue
    return found


def _referenced_forms(bpmn: str, decisions: dict[str, str], called: dict[str, str]) -> set[str]:
    try:
        model = parse_process(bpmn, decisions, called=called, validate_schema=False, require_lanes=False)
    except DiagramError:
        # The real deployment reports the problem; the forms its own user tasks name are still read
        # (a diagram whose shared steps are not beside it takes theirs from their deployed versions).
        return named_forms(bpmn)
    return model.form_files()


def deploy(
    bpmn: str,
    files: dict[str, str],
    deployed_by: User | None = None,
    actor: str = "cli",
    comment: str | None = None,
    *,
    process_id: str | None = None,
) -> DeployResult:
    """Validate and store a new version of a diagram; identical content returns the current version.
    ``process_id`` chooses the process of a diagram that defines several (without it: its only executable one).

    The diagram bundles the latest deployed version of every process it calls (refused, naming the call
    activity, when one is not deployed). A new version of a process that others call deploys a new
    version of each process whose latest version calls it, in the same transaction (``callers``).
    ``comment``: what the analyst said of the version, kept on a new version."""
    with write_transaction():
        return deploy_in_transaction(bpmn, files, deployed_by, actor, comment, process_id=process_id)


def deploy_in_transaction(
    bpmn: str,
    files: dict[str, str],
    deployed_by: User | None = None,
    actor: str = "cli",
    comment: str | None = None,
    *,
    process_id: str | None = None,
) -> DeployResult:
    """``deploy`` inside the caller's open writing transaction (the studio's approval updates its proposal
    in the same one, so a version is never deployed without its approval, nor approved undeployed)."""
    if not in_write_transaction():
        raise RuntimeError("deploy_in_transaction needs an open writing transaction")
    label = deployed_by.label if deployed_by is not None else actor
    result = _deploy_one(bpmn, files, deployed_by, label, comment=comment, process_id=process_id)
    if result.created:
        result = replace(result, callers=_deploy_callers(result, deployed_by, label))
    return result


def make_current(definition_id: int, by: User, comment: str | None = None) -> DeployResult:
    """Inside the caller's writing transaction: make a deployed version the one new cases start on again
    (a rollback), by retiring every version after it; running cases keep theirs. Audited on the
    process's chain. A shared step's callers follow it: each gets its content again with this version
    bundled (an older version of the caller when that is what it was, made current the same way)."""
    if not in_write_transaction():
        raise RuntimeError("make_current needs an open writing transaction")
    definition = db.session.get(ProcessDefinition, definition_id)
    if definition is None or definition.trial:
        raise ServiceError(Message("There is no deployed version %(id)s.", id=definition_id))
    result = _retire_after(definition, by, comment)
    callers = _deploy_callers(result, by, by.label)
    for caller in callers:
        current = latest_definition(caller.process_id)
        if not caller.created and (current is None or current.id != caller.definition_id):
            older = db.session.get(ProcessDefinition, caller.definition_id)
            assert older is not None
            _retire_after(older, by, comment)
    return replace(result, callers=callers)


def _retire_after(definition: ProcessDefinition, by: User, comment: str | None) -> DeployResult:
    chain = audit.process_chain(definition.process_id)
    audit.lock_chain(chain)
    later = db.session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == definition.process_id,
            ProcessDefinition.trial.is_(False),
            ProcessDefinition.version > definition.version,
            ProcessDefinition.retired.is_(False),
        )
    ).all()
    for newer in later:
        newer.retired = True
    definition.retired = False
    db.session.flush()
    audit.record(
        "definition_rolled_back",
        {
            "process_id": definition.process_id,
            "version": definition.version,
            "retired": sorted(d.version for d in later),
            "comment": comment,
        },
        user=by,
        chain=chain,
    )
    return DeployResult(definition.id, definition.process_id, definition.version, created=False)


def check_deployable(bpmn: str, files: dict[str, str], *, process_id: str | None = None) -> list[tuple[str, str]]:
    """Every problem ``deploy`` would refuse the diagram and files for (element or file, what is wrong),
    found without writing anything: empty when it can be deployed as it is."""
    try:
        chosen = _process_id(bpmn, process_id)
        bundled, called, _versions = _bundle(bpmn, files, replace_bundled=False)
        decisions = {name: text for name, text in bundled.items() if name.endswith(".dmn")}
        form_files = {name: text for name, text in bundled.items() if not name.endswith(".dmn")}
        model = _validate(bpmn, decisions, form_files, called, chosen)
        _check_texts(model, form_files)
    except DeploymentRefused as exc:
        return list(exc.problems)
    return []


def _deploy_one(
    bpmn: str,
    files: dict[str, str],
    deployed_by: User | None,
    label: str,
    because: DeployResult | None = None,
    process_id: str | None = None,
    comment: str | None = None,
) -> DeployResult:
    """One version, inside the deployment's transaction. ``because``: the shared step whose new version
    this caller is deployed again for (its files then give way to the new shared step's)."""
    process_id = _process_id(bpmn, process_id)
    # The head of the process's deployment chain serializes its deployments: versions cannot collide.
    chain = audit.process_chain(process_id)
    audit.lock_chain(chain)
    files, called, versions = _bundle(bpmn, files, replace_bundled=because is not None)
    decisions = {name: text for name, text in files.items() if name.endswith(".dmn")}
    form_files = {name: text for name, text in files.items() if not name.endswith(".dmn")}
    model = _validate(bpmn, decisions, form_files, called, process_id)
    used_decisions = _decision_files_used(model, decisions)
    used_texts = _check_texts(model, form_files)
    stored = {
        **{n: form_files[n] for n in sorted(model.form_files())},
        **used_decisions,
        **used_texts,
        **{f"{CALLED}{name}.bpmn": called[name] for name in sorted(set(model.calls.values()))},
    }
    digest = content_hash(bpmn, stored)
    existing = db.session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == model.process_id, ProcessDefinition.content_hash == digest
        )
    ).first()
    if existing is not None and not existing.trial:
        return DeployResult(existing.id, existing.process_id, existing.version, created=False)
    latest = db.session.scalar(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.process_id == model.process_id, ProcessDefinition.trial.is_(False)
        )
    )
    why = f"{because.process_id} version {because.version}" if because is not None else None
    if existing is not None:  # the content an analyst tried: that row becomes the deployed version
        return _promote_trial(existing, (latest or 0) + 1, deployed_by, label, why, versions, model, chain, comment)
    definition = ProcessDefinition(
        process_id=model.process_id,
        version=(latest or 0) + 1,
        name=model.name,
        content_hash=digest,
        bpmn_xml=bpmn,
        files=stored,
        deployed_by_id=deployed_by.id if deployed_by is not None else None,
        deployed_by=f"{label} (with {why})"[:300] if why else label,
        deployed_at=app_clock().now(),
        comment=comment[:1000] if comment else None,
    )
    db.session.add(definition)
    db.session.flush()
    details: dict[str, object] = {"process_id": model.process_id, "version": definition.version, "hash": digest}
    if model.calls:
        details["calls"] = {name: versions.get(name) for name in sorted(set(model.calls.values()))}
    if because is not None:
        details["because"] = {"process_id": because.process_id, "version": because.version}
    audit.record("definition_deployed", details, user=deployed_by, actor=label, chain=chain)
    return DeployResult(definition.id, definition.process_id, definition.version, created=True, because=why)


def _promote_trial(
    trial: ProcessDefinition,
    version: int,
    deployed_by: User | None,
    label: str,
    why: str | None,
    versions: dict[str, int],
    model: ProcessModel,
    chain: str,
    comment: str | None,
) -> DeployResult:
    """Deploy content already stored as a trial version: the row (one per content, by the hash's
    uniqueness) takes the next version number and the deployment's comment; the trial cases on it stay
    trial cases."""
    old = trial.version
    trial.trial = False
    trial.version = version
    trial.deployed_by_id = deployed_by.id if deployed_by is not None else None
    trial.deployed_by = f"{label} (with {why})"[:300] if why else label
    trial.deployed_at = app_clock().now()
    trial.comment = comment[:1000] if comment else None
    db.session.flush()
    details: dict[str, object] = {
        "process_id": trial.process_id,
        "version": version,
        "hash": trial.content_hash,
        "was_trial": old,
    }
    if model.calls:
        details["calls"] = {name: versions.get(name) for name in sorted(set(model.calls.values()))}
    audit.record("definition_deployed", details, user=deployed_by, actor=label, chain=chain)
    return DeployResult(trial.id, trial.process_id, version, created=True, because=why)


def deploy_trial(bpmn: str, files: dict[str, str], user: User, *, process_id: str | None = None) -> ProcessDefinition:
    """Store a diagram and its files as a TRIAL version for the studio's sandbox cases (never what new
    cases start on): validated as a deployment is, refused the same way (``DeploymentRefused`` naming
    each element). Content identical to a version of the process already stored reuses that row;
    otherwise the trial takes the next negative number (-1, -2, ...). A user task outside every lane may
    be tried (the analyst does it); deployment refuses it."""
    with write_transaction():
        process_id = _process_id(bpmn, process_id)
        chain = audit.process_chain(process_id)
        audit.lock_chain(chain)
        bundled, called, _versions = _bundle(bpmn, files, replace_bundled=False)
        decisions = {name: text for name, text in bundled.items() if name.endswith(".dmn")}
        form_files = {name: text for name, text in bundled.items() if not name.endswith(".dmn")}
        model = _validate(bpmn, decisions, form_files, called, process_id, require_lanes=False)
        stored = {
            **{n: form_files[n] for n in sorted(model.form_files())},
            **_decision_files_used(model, decisions),
            **_check_texts(model, form_files),
            **{f"{CALLED}{name}.bpmn": called[name] for name in sorted(set(model.calls.values()))},
        }
        digest = content_hash(bpmn, stored)
        existing = db.session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_id == model.process_id, ProcessDefinition.content_hash == digest
            )
        ).first()
        if existing is not None:
            return existing
        lowest = db.session.scalar(
            select(func.min(ProcessDefinition.version)).where(
                ProcessDefinition.process_id == model.process_id, ProcessDefinition.trial.is_(True)
            )
        )
        definition = ProcessDefinition(
            process_id=model.process_id,
            version=min(lowest or 0, 0) - 1,
            name=model.name,
            content_hash=digest,
            bpmn_xml=bpmn,
            files=stored,
            deployed_by_id=user.id,
            deployed_by=user.label,
            deployed_at=app_clock().now(),
            trial=True,
        )
        db.session.add(definition)
        db.session.flush()
        audit.record(
            "trial_version_stored",
            {"process_id": model.process_id, "version": definition.version, "hash": digest},
            user=user,
            chain=chain,
        )
        return definition


def _process_id(bpmn: str, process_id: str | None = None) -> str:
    try:
        return read_process_id(bpmn, process_id)
    except DiagramError as exc:
        raise DeploymentRefused(exc.problems) from exc


def _bundle(
    bpmn: str, files: dict[str, str], *, replace_bundled: bool
) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    """The files with those of the latest deployed version of every process the diagram calls (its
    forms, form texts, decision tables; its translations as ``called/<id>.<lang>.json``), and the
    called diagrams (process id -> BPMN text, those the called versions bundle in turn included), and
    the version of each process taken from the deployments.

    A call to a process not deployed is refused naming the call activity; so is a supplied file that
    differs from the copy a called version has (deploy the shared step first), unless
    ``replace_bundled`` (a caller deployed again for a new shared step: the new copies win)."""
    try:
        calls = list(called_elements(bpmn).items())
    except DiagramError as exc:
        raise DeploymentRefused(exc.problems) from exc
    own = {name: text for name, text in files.items() if not name.startswith(CALLED)}
    called: dict[str, str] = {}
    versions: dict[str, int] = {}
    bundled: dict[str, tuple[str, str]] = {}  # file name -> (text, which version it comes from)
    problems: list[tuple[str, str]] = [
        (name, "a form or decision table is a plain file name, without a folder or '..'")
        for name in own
        if not plain_file_name(name)
    ]
    while calls:
        element, process_id = calls.pop(0)
        if not process_id or process_id in called:
            continue
        definition = latest_definition(process_id)
        if definition is None:
            problems.append(
                (
                    element,
                    f"the call activity calls {process_id}, which is not deployed; deploy it first "
                    f"(kitas deploy bpmn/{SHARED_DIR}/{process_id}.bpmn)",
                )
            )
            continue
        source = f"{process_id} version {definition.version}"
        called[process_id] = definition.bpmn_xml
        versions[process_id] = definition.version
        for name, text in definition.files.items():
            if name.startswith(CALLED):
                if name.endswith(".bpmn"):
                    called.setdefault(name.removeprefix(CALLED).removesuffix(".bpmn"), text)
                else:
                    bundled.setdefault(name, (text, source))
                continue
            language = _texts_language(name)
            if language is not None and name.removesuffix(f".{language}.json") + ".json" not in definition.files:
                name = f"{CALLED}{process_id}.{language}.json"  # the called diagram's own translations
            bundled.setdefault(name, (text, source))
        calls.extend(called_elements(definition.bpmn_xml).items())
    if problems:
        raise DeploymentRefused(problems)
    own_decisions = {d for name, text in own.items() if name.endswith(".dmn") for d in _decision_ids(text)}
    for name, (text, source) in sorted(bundled.items()):
        if name.endswith(".dmn") and name not in own and own_decisions and _decision_ids(text) <= own_decisions:
            # A table of the same decisions beside the diagram is the one its version uses: a type of a
            # KITAS_EXTRA_TYPES folder brings its own rows of kitas_fee (one table per bundle, never two).
            continue
        if name in own and own[name] != text and not replace_bundled:
            problems.append(
                (name, f"differs from the copy {source} was deployed with; deploy that step first, then this diagram")
            )
        own[name] = text
    if problems:
        raise DeploymentRefused(problems)
    return own, called, versions


def _deploy_callers(shared: DeployResult, deployed_by: User | None, label: str) -> tuple[DeployResult, ...]:
    """A new version of every process whose latest version calls ``shared`` (and so on up the calls)."""
    results: list[DeployResult] = []
    done = {shared.process_id}
    pending = [shared]
    while pending:
        current = pending.pop(0)
        for found in _latest_callers(current.process_id):
            if found.process_id in done:
                continue
            done.add(found.process_id)
            # Read its latest version again once its deployments are serialized: one deployed meanwhile
            # (with the shared step's version before this one) is the one to follow.
            audit.lock_chain(audit.process_chain(found.process_id))
            caller = latest_definition(found.process_id)
            if caller is None or f"{CALLED}{current.process_id}.bpmn" not in caller.files:
                continue
            result = _deploy_one(
                caller.bpmn_xml, dict(caller.files), deployed_by, label, because=current, process_id=caller.process_id
            )
            results.append(result)
            if result.created:
                pending.append(result)
    return tuple(results)


def _latest_callers(process_id: str) -> list[ProcessDefinition]:
    """The latest version of each process that bundles ``process_id``, processes called by others first."""
    newest = (
        select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("version"))
        .where(ProcessDefinition.trial.is_(False))  # a process only tried is never deployed for a shared step
        .group_by(ProcessDefinition.process_id)
        .subquery()
    )
    latest = db.session.scalars(
        select(ProcessDefinition)
        .join(
            newest,
            (ProcessDefinition.process_id == newest.c.process_id) & (ProcessDefinition.version == newest.c.version),
        )
        .order_by(ProcessDefinition.process_id)
    ).all()
    key = f"{CALLED}{process_id}.bpmn"
    callers = [definition for definition in latest if key in definition.files]
    called_by_others = {name for d in callers for name in called_diagrams(d.files)}
    return sorted(callers, key=lambda d: (d.process_id not in called_by_others, d.process_id))


def deploy_path(
    bpmn_path: Path,
    forms_dir: Path,
    deployed_by: User | None = None,
    actor: str = "cli",
    *,
    process_id: str | None = None,
) -> DeployResult:
    """Deploy a diagram file with the decision tables beside it and the forms it references."""
    bpmn, files = collect_files(bpmn_path, forms_dir)
    return deploy(bpmn, files, deployed_by, actor, process_id=process_id)


def deploy_all(bpmn_dir: Path, forms_dir: Path, actor: str = "cli") -> list[DeployResult]:
    """Deploy the shared steps under ``bpmn_dir/shared`` first, then every diagram under ``bpmn_dir``
    (already-deployed content is left as it is)."""
    paths = [*sorted((bpmn_dir / SHARED_DIR).glob("*.bpmn")), *sorted(bpmn_dir.glob("*.bpmn"))]
    return [deploy_path(path, forms_dir, actor=actor) for path in paths]


def _validate(
    bpmn: str,
    decisions: dict[str, str],
    form_files: dict[str, str],
    called: dict[str, str],
    process_id: str | None = None,
    *,
    require_lanes: bool = True,
) -> ProcessModel:
    try:
        model = parse_process(
            bpmn,
            decisions,
            called=called,
            form_files=form_files,
            known_lanes=catalog().lane_roles,
            process_id=process_id,
            require_lanes=require_lanes,
        )
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
    (an earlier answer) and the values of the catalog entry of this process (``rule_values``, its lists)."""
    answers = {f.name for form in loaded.values() for f in form.fields}
    kitas_type = next((t for t in catalog().types if t.process_id == model.process_id), None)
    values = kitas_type.named_values() if kitas_type is not None else None
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
    diagram_texts = [
        n
        for n in kept
        if not n.startswith(CALLED) and n.removesuffix(f".{_texts_language(n)}.json") + ".json" not in files
    ]
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
    """The element names of a version in ``language``: the diagram's and those of the diagrams it calls."""
    suffix = f".{language}.json"
    texts: dict[str, str] = {}
    # The called diagrams' first, the diagram's own last (element ids are unique across the bundle anyway).
    for name in sorted(files, key=lambda n: (not n.startswith(CALLED), n)):
        if name.endswith(suffix) and name.removesuffix(suffix) + ".json" not in files:
            texts.update(_parsed(files, name))
    return texts


def latest_definition(process_id: str) -> ProcessDefinition | None:
    """The newest deployed version of a process that no rollback retired, which new cases use."""
    return db.session.scalars(
        select(ProcessDefinition)
        .where(
            ProcessDefinition.process_id == process_id,
            ProcessDefinition.trial.is_(False),
            ProcessDefinition.retired.is_(False),
        )
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


def deploy_extra_types(folders: Sequence[Path], actor: str = "cli") -> list[DeployResult]:
    """Deploy the diagrams of each folder of further KITAS types (``KITAS_EXTRA_TYPES``): the diagrams
    beside its ``kitas_types.json``, their forms in its ``forms/`` (README, "Adding a KITAS type")."""
    return [
        deploy_path(path, folder / "forms", actor=actor) for folder in folders for path in sorted(folder.glob("*.bpmn"))
    ]


def _decision_ids(dmn: str) -> set[str]:
    """The ids of the decisions a decision-table file defines."""
    try:
        root = etree.fromstring(dmn.encode("utf-8"))
    except etree.XMLSyntaxError:
        return set()  # the parser names the problem
    return {str(element.get("id")) for element in root.iter("{*}decision") if element.get("id")}
