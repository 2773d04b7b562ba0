"""Deploy versions of diagrams (and say, without deploying, what would be refused).

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
from dataclasses import dataclass, replace

from lxml import etree
from sqlalchemy import func, select

import forms
from engine import (
    DiagramError,
    ProcessModel,
    called_elements,
    content_hash,
    parse_process,
    plain_file_name,
    read_process_id,
)
from forms.texts import LANGUAGES, SOURCE_LANGUAGE, missing_texts, parse_texts
from workflows import catalog

from ...extensions import app_clock, db
from ...models import ProcessDefinition, User
from ...transactions import in_write_transaction, write_transaction
from .. import audit
from ..errors import DeploymentRefused

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


def check_deployable(bpmn: str, files: dict[str, str], *, process_id: str | None = None) -> list[tuple[str, str]]:
    """Every problem ``deploy`` would refuse the diagram and files for (element or file, what is wrong),
    found without writing anything: empty when it can be deployed as it is."""
    try:
        prepare(bpmn, files, _process_id(bpmn, process_id))
    except DeploymentRefused as exc:
        return list(exc.problems)
    return []


@dataclass(frozen=True)
class Prepared:
    """A diagram ready to store: its validated model, the files its version keeps (forms and decision
    tables it uses, their texts, the diagrams it calls), their content hash, the called versions."""

    model: ProcessModel
    stored: dict[str, str]
    digest: str
    versions: dict[str, int]


def prepare(
    bpmn: str,
    files: dict[str, str],
    process_id: str,
    *,
    replace_bundled: bool = False,
    require_lanes: bool = True,
) -> Prepared:
    """Bundle the called steps' latest versions, validate, and choose the files the version keeps;
    ``DeploymentRefused`` naming every problem."""
    bundled, called, versions = _bundle(bpmn, files, replace_bundled=replace_bundled)
    decisions = {name: text for name, text in bundled.items() if name.endswith(".dmn")}
    form_files = {name: text for name, text in bundled.items() if not name.endswith(".dmn")}
    model = _validate(bpmn, decisions, form_files, called, process_id, require_lanes=require_lanes)
    stored = {
        **{n: form_files[n] for n in sorted(model.form_files())},
        **_decision_files_used(model, decisions),
        **_check_texts(model, form_files),
        **{f"{CALLED}{name}.bpmn": called[name] for name in sorted(set(model.calls.values()))},
    }
    return Prepared(model, stored, content_hash(bpmn, stored), versions)


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
    prepared = prepare(bpmn, files, process_id, replace_bundled=because is not None)
    model, stored, digest, versions = prepared.model, prepared.stored, prepared.digest, prepared.versions
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


def _decision_ids(dmn: str) -> set[str]:
    """The ids of the decisions a decision-table file defines."""
    try:
        root = etree.fromstring(dmn.encode("utf-8"))
    except etree.XMLSyntaxError:
        return set()  # the parser names the problem
    return {str(element.get("id")) for element in root.iter("{*}decision") if element.get("id")}
