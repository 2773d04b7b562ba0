"""Lint at element level: one validation service for the studio's modeler, its proposals and ``kitas lint``.

It combines (a) the engine's own checks (``engine.parse_process``, rule ``engine``), (b) what deployment
refuses (``deployments.check_deployable``, rule ``deploy``; without a database the same checks made from
the files at hand), so "deployable" agrees with deployment, (c) modeling rules in the spirit of bpmnlint
(``modeling``) and (d) the KITAS rules (``kitas_rules``). A problem found by two of them is said once;
an engine or deployment refusal is always an error, and a rule of ours that says the same thing of the
same element gives way to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from engine import DiagramError, decode_bpmn
from forms.texts import Message, parse_texts
from workflows import catalog

from ...deployments import CALLED, called_diagrams, collect_files, latest_definition
from ...errors import DeploymentRefused
from . import checks, kitas_rules
from .diagram import BPMN, Diagram, parse_xml, processes, read_diagram
from .modeling import modeling_problems
from .report import DOCUMENT, ERROR, WARNING, LintReport, Problem, make_report

if TYPE_CHECKING:
    from ....models import StudioDraft

__all__ = ["ERROR", "WARNING", "LintReport", "Problem", "lint_diagram", "lint_draft", "lint_path"]

SHARED_DIR = "shared"


def lint_draft(draft: StudioDraft) -> LintReport:
    """The lint of a studio draft: its diagram, its files, its process."""
    return lint_diagram(draft.bpmn_xml, dict(draft.files or {}), process_id=draft.process_id)


def lint_diagram(
    bpmn: str | bytes,
    files: Mapping[str, str] | None = None,
    *,
    process_id: str | None = None,
    called: Mapping[str, str] | None = None,
) -> LintReport:
    """Every problem of a diagram and its files (forms, UI schemas, texts, decision tables), element by element.

    ``called`` (process id -> BPMN text) are diagrams its call activities may call besides those of the
    file, of ``files`` (``called/<id>.bpmn``) and the deployed ones (``kitas lint`` gives the shared steps
    on disk)."""
    files = dict(files or {})
    text, root, refusal = _document(bpmn)
    if root is None:
        return make_report(process_id, False, [refusal] if refusal else [])
    found = processes(root)
    chosen, choice_problems = _choose(found, process_id)
    if chosen is None:
        return make_report(process_id, True, choice_problems)
    diagram = read_diagram(root, chosen)
    in_file = {str(p.get("id")): p for p in found}
    online = checks.database_ready()
    bundle, extra_files = _called(diagram, in_file, files, called or {}, online)
    with_called = {**extra_files, **files}

    lane_roles = catalog().lane_roles
    official = _official_problems(text, files, with_called, bundle, diagram.process_id, online, lane_roles)
    reachable = {**_read_called(bundle), **{i: read_diagram(root, p) for i, p in in_file.items()}}
    own = [*choice_problems, *_rule_problems(diagram, reachable, set(in_file), files, with_called, lane_roles)]
    covered = {(p.element, p.rule) for p in official}
    own = [p for p in own if (p.element, p.rule) not in covered]
    return make_report(diagram.process_id, True, [*official, *own])


def _official_problems(
    text: str,
    files: Mapping[str, str],
    with_called: Mapping[str, str],
    bundle: Mapping[str, str],
    process_id: str,
    online: bool,
    lane_roles: Mapping[str, str],
) -> list[Problem]:
    """What the engine and deployment refuse (each said once), as lint problems."""
    decisions = {name: body for name, body in with_called.items() if name.endswith(".dmn")}
    _model, engine_raw = checks.parse(text, decisions, bundle, process_id=process_id)
    if online:
        deploy_raw = checks.deploy_problems(text, files, process_id)
    else:
        deploy_raw = checks.offline_deploy_problems(text, with_called, bundle, process_id, lane_roles)
    return [
        *(checks.translate(element, why, "engine", files) for element, why in engine_raw),
        *(
            checks.translate(element, why, "deploy", files)
            for element, why in deploy_raw
            if (element, why) not in engine_raw
        ),
    ]


def _rule_problems(
    diagram: Diagram,
    reachable: Mapping[str, Diagram],
    in_file: set[str],
    files: Mapping[str, str],
    with_called: Mapping[str, str],
    lane_roles: Mapping[str, str],
) -> list[Problem]:
    """The modeling and KITAS rules over the diagram and the processes of its file it calls; ``reachable``
    holds every process the call activities may reach (of the file, given, deployed)."""
    own: list[Problem] = []
    in_file_calls = _calls_within(diagram, reachable, in_file)
    for linted in (diagram, *in_file_calls):
        own.extend(modeling_problems(linted))
        own.extend(kitas_rules.lane_problems(linted, lane_roles))
        own.extend(kitas_rules.form_problems(linted, with_called))
        own.extend(kitas_rules.sla_problems(linted, lane_roles))
        own.extend(kitas_rules.call_problems(linted, set(reachable)))
        own.extend(kitas_rules.payment_problems(linted, lane_roles, reachable))
        own.extend(kitas_rules.timer_problems(linted))
    own.extend(kitas_rules.label_problems(diagram, _diagram_texts(files)))
    calls = [n.called_element for d in (diagram, *reachable.values()) for n in d.of_kind("callActivity")]
    if all(target in reachable for target in calls):  # what a step nobody can read sets is unknown
        decisions = {name: body for name, body in with_called.items() if name.endswith(".dmn")}
        own.extend(kitas_rules.condition_name_problems(diagram, reachable, with_called, _decision_outputs(decisions)))
    return own


def lint_path(path: Path, forms_dir: Path | None = None) -> LintReport:
    """The lint of a diagram file with the files deployment would take with it: the decision tables
    beside it, its forms (from ``forms_dir``, else ``forms/`` beside it), the translations, and the
    shared steps it calls from ``shared/`` beside it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return make_report(None, False, [_not_read(path, exc)])
    folder = forms_dir if forms_dir is not None else _forms_folder(path)
    try:
        _text, files = collect_files(path, folder)
    except (DeploymentRefused, UnicodeDecodeError, OSError):
        files = {}
    return lint_diagram(data, files, called=_shared_on_disk(path))


def _document(bpmn: str | bytes) -> tuple[str, Any, Problem | None]:
    """The text and root of a BPMN 2.0 document, or the problem why it does not import."""
    try:
        text = decode_bpmn(bpmn) if isinstance(bpmn, bytes) else bpmn
    except DiagramError as exc:
        why = "; ".join(str(reason) for _element, reason in exc.problems)
        return "", None, Problem(DOCUMENT, ERROR, "engine", Message("The file cannot be read: %(error)s.", error=why))
    try:
        root = parse_xml(text)
    except etree.XMLSyntaxError as exc:
        return (
            text,
            None,
            Problem(
                DOCUMENT,
                ERROR,
                "engine",
                Message(
                    "The file is not XML (line %(line)s): %(error)s. Save it again from the modeler.",
                    line=exc.lineno,
                    error=exc.msg,
                ),
            ),
        )
    if root.tag != f"{{{BPMN}}}definitions":
        return (
            text,
            None,
            Problem(
                DOCUMENT,
                ERROR,
                "engine",
                Message("The file is XML but not a BPMN 2.0 diagram: its root is not bpmn:definitions."),
            ),
        )
    return text, root, None


def _choose(found: list[Any], process_id: str | None) -> tuple[Any, list[Problem]]:
    """The process to lint: the one asked for, the only one, or the only executable one."""
    if not found:
        return None, [Problem(DOCUMENT, ERROR, "engine", Message("The diagram defines no process. Draw one."))]
    if process_id is not None:
        for process in found:
            if process.get("id") == process_id:
                return process, []
        return None, [
            Problem(DOCUMENT, ERROR, "engine", Message("The diagram has no process %(process)s.", process=process_id))
        ]
    called = {str(node.get("calledElement")) for p in found for node in p.iter(f"{{{BPMN}}}callActivity")}
    candidates = [p for p in found if p.get("id") not in called] or found
    executable = [p for p in candidates if p.get("isExecutable") != "false"]
    chosen = (executable or candidates)[0]
    if len(candidates) == 1:
        return chosen, []
    return chosen, [
        Problem(
            DOCUMENT,
            WARNING,
            "process-choice",
            Message(
                "The file defines %(count)s processes; this lint is of %(process)s. Choose the process "
                "when you import the file to lint another one.",
                count=len(found),
                process=str(chosen.get("id")),
            ),
        )
    ]


def _called(
    diagram: Diagram,
    in_file: Mapping[str, Any],
    files: Mapping[str, str],
    given: Mapping[str, str],
    online: bool,
) -> tuple[dict[str, str], dict[str, str]]:
    """The diagrams the call activities reach (process id -> BPMN text) outside this file, and the files
    of the deployed versions taken for them (their decision tables): from ``files``, the given ones,
    then the deployed versions."""
    bundle: dict[str, str] = {}
    extra: dict[str, str] = {}
    known = {**called_diagrams(dict(files)), **given}
    pending = [n.called_element for n in diagram.of_kind("callActivity") if n.called_element]
    while pending:
        target = pending.pop()
        if target in bundle or target in in_file or not target:
            continue
        body = known.get(target)
        if body is None and online:
            definition = latest_definition(target)
            if definition is not None:
                body = definition.bpmn_xml
                extra.update({n: t for n, t in definition.files.items() if not n.startswith(CALLED)})
                known.update(called_diagrams(dict(definition.files)))
        if body is None:
            continue
        bundle[target] = body
        try:
            root = parse_xml(body)
        except etree.XMLSyntaxError:
            continue
        pending.extend(str(c.get("calledElement") or "") for c in root.iter(f"{{{BPMN}}}callActivity"))
    return bundle, extra


def _read_called(bundle: Mapping[str, str]) -> dict[str, Diagram]:
    read: dict[str, Diagram] = {}
    for process_id, body in bundle.items():
        try:
            root = parse_xml(body)
        except etree.XMLSyntaxError:
            continue
        for process in processes(root):
            if process.get("id") == process_id:
                read[process_id] = read_diagram(root, process)
    return read


def _calls_within(diagram: Diagram, reachable: Mapping[str, Diagram], in_file: set[str]) -> list[Diagram]:
    """The processes of the same file the linted one calls (directly or further on), to lint with it."""
    found: dict[str, Diagram] = {}
    pending = [n.called_element for n in diagram.of_kind("callActivity")]
    while pending:
        target = pending.pop()
        if not target or target == diagram.process_id or target in found or target not in in_file:
            continue
        found[target] = reachable[target]
        pending.extend(n.called_element for n in found[target].of_kind("callActivity"))
    return list(found.values())


def _diagram_texts(files: Mapping[str, str]) -> dict[str, str] | None:
    """The diagram's Indonesian names: its ``.id.json`` files (those that are not a form's texts)."""
    texts: dict[str, str] | None = None
    for name, body in files.items():
        if name.startswith(CALLED) or not name.endswith(".id.json"):
            continue
        if name.removesuffix(".id.json") + ".json" in files:
            continue
        try:
            texts = {**(texts or {}), **parse_texts(body, name)}
        except ValueError:
            texts = texts or {}  # deployment's check names the broken file
    return texts


def _decision_outputs(decisions: Mapping[str, str]) -> set[str]:
    """The names the decision tables write (their outputs)."""
    names: set[str] = set()
    for body in decisions.values():
        try:
            root = parse_xml(body)
        except etree.XMLSyntaxError:
            continue
        names.update(str(node.get("name")) for node in root.iter("{*}output") if node.get("name"))
    return names


def _shared_on_disk(path: Path) -> dict[str, str]:
    """The shared steps beside a diagram file (``shared/``, or the folder itself for a shared step)."""
    folder = path.parent if path.parent.name == SHARED_DIR else path.parent / SHARED_DIR
    found: dict[str, str] = {}
    for candidate in sorted(folder.glob("*.bpmn")) if folder.is_dir() else []:
        if candidate.resolve() == path.resolve():
            continue
        try:
            found[candidate.stem] = decode_bpmn(candidate.read_bytes())
        except (DiagramError, OSError):
            continue
    return found


def _forms_folder(path: Path) -> Path:
    """Where a diagram's forms are: ``forms/`` beside it (a KITAS_EXTRA_TYPES folder), else the
    configured forms folder (the shipped ``forms/schemas``)."""
    own = path.parent / "forms"
    if own.is_dir():
        return own
    from flask import current_app, has_app_context

    if has_app_context():
        return Path(current_app.config["KITAS_FORMS_DIR"])
    return path.parent / "forms"


def _not_read(path: Path, exc: OSError) -> Problem:
    return Problem(
        path.name, ERROR, "engine", Message("The file cannot be read: %(error)s.", error=exc.strerror or str(exc))
    )
