"""Parse, validate and fingerprint a BPMN diagram with its decision tables and form files.

A deployment is refused with every problem named by its element id: a diagram
that does not parse, a user task whose form file does not exist (or whose form
name has a folder in it), a lane that maps to no known role, a task outside every
lane (unless ``require_lanes=False``: a trial), a script, condition,
timer or decision-table expression that the sandbox refuses to compile, a
four-eyes rule (``notByPerformerOf``) naming no user task of the bundle or set on
an element that is neither a user task nor a call activity.

A diagram may call other processes (``<bpmn:callActivity calledElement=...>``,
the shared steps); the called diagrams are parsed with it as one bundle. A call
to a process no diagram of the bundle defines, and an element id used twice in
the bundle, are refused naming the element.

Diagrams from other modelers (engine/foreign.py): a file may define several processes
(``process_id`` picks one; a missing ``isExecutable`` is executable); user, manual and
plain tasks all wait for a person, and one without a form is a confirmation task;
what SpiffWorkflow cannot run is refused in plain words naming the element.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask as ManualTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask as NoneTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .errors import DiagramError, ScriptError
from .foreign import other_expression_language, spiff_problem, unsupported_elements
from .sandbox import compile_script
from .spiff_internals import decision_expressions, gateway_conditions

FORM_SCHEMA_PROPERTY = "formJsonSchemaFilename"
FORM_UI_PROPERTY = "formUiSchemaFilename"
STATUS_PROPERTY = "status"
# Four eyes: on a user task, or on a call activity for every user task inside the process it calls, the
# element ids (comma-separated) of user tasks whose performers in the same case may not take this task.
NOT_BY_PERFORMER_PROPERTY = "notByPerformerOf"


@dataclass(frozen=True)
class UserTaskInfo:
    """What the rest of the system needs to know about one user task of a diagram."""

    element_id: str
    name: str
    lane: str
    form_schema: str | None
    form_ui_schema: str | None
    status: str | None
    # "userTask", "manualTask" or "task": what the diagram drew. A task without a form (a manual or plain
    # task, or a user task with no formJsonSchemaFilename) is a confirmation task: done with no data.
    kind: str = field(default="userTask", kw_only=True)

    @property
    def confirmation(self) -> bool:
        """True when the task has no form of its own: the person confirms it is done."""
        return not self.form_schema


@dataclass(frozen=True)
class ProcessModel:
    """A parsed, validated process definition, shared (read-only) by all cases that use it."""

    process_id: str
    name: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    user_tasks: dict[str, UserTaskInfo]
    lanes: tuple[str, ...]
    statuses: dict[str, str] = field(default_factory=dict)
    decisions: tuple[str, ...] = ()
    # Element id -> the name the analyst gave it (events, tasks, gateways), for timelines and reports.
    element_names: dict[str, str] = field(default_factory=dict)
    # Call activity id -> the process it calls (of this diagram and of the diagrams it calls).
    calls: dict[str, str] = field(default_factory=dict)
    # User task or call activity id -> the user tasks whose performers may not take it (notByPerformerOf).
    not_by_performer_of: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def form_files(self) -> set[str]:
        """Every form file name the diagram's user tasks reference."""
        names: set[str] = set()
        for info in self.user_tasks.values():
            names.update(n for n in (info.form_schema, info.form_ui_schema) if n)
        return names


def content_hash(bpmn: str | bytes, files: Mapping[str, str | bytes]) -> str:
    """SHA-256 over the diagram and its companion files, independent of their order."""
    digest = hashlib.sha256()
    digest.update(_as_bytes(bpmn))
    for name in sorted(files):
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update(_as_bytes(files[name]))
    return digest.hexdigest()


@dataclass(frozen=True)
class ProcessInfo:
    """One process a diagram defines, as an analyst picks it: its id, its name (or its participant's in a
    collaboration), and whether it is marked executable (a missing ``isExecutable`` counts as executable;
    only ``isExecutable="false"`` does not)."""

    process_id: str
    name: str
    executable: bool


_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)[\"'][^>]*\?>")


def decode_bpmn(data: bytes) -> str:
    """The text of a diagram file as its XML declaration says (UTF-8 without one), its declaration then
    saying UTF-8. A file whose bytes are not in the encoding it declares (Latin-1 text in a file that
    says UTF-8, as some modelers write) is read as Windows-1252, which every byte decodes; a file that
    is not text at all is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\0" in data[:1024]:
        raise DiagramError([("(document)", "the file is not a text file (UTF-16 and binary files cannot be read)")])
    match = _DECLARATION.match(data)
    declared = match.group(1).decode("ascii") if match else "utf-8"
    try:
        text = data.decode(declared)
    except LookupError:
        raise DiagramError([("(document)", f"the file declares the unknown encoding {declared}")]) from None
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if match:  # the declaration is ASCII, so its offsets in the bytes are those in the text
        text = text[: match.start(1)] + "UTF-8" + text[match.end(1) :]
    return text


def list_processes(bpmn: str | bytes) -> tuple[ProcessInfo, ...]:
    """Every process of a diagram, in document order (without full parsing)."""
    root = _xml(bpmn, "(document)")
    participants = {
        str(node.get("processRef")): str(node.get("name") or "")
        for node in root.xpath("//bpmn:participant[@processRef]", namespaces=_NS)
    }
    found = []
    for node in root.xpath("//bpmn:process", namespaces=_NS):
        process_id = str(node.get("id") or "")
        name = str(node.get("name") or participants.get(process_id) or process_id)
        found.append(ProcessInfo(process_id, name, node.get("isExecutable") != "false"))
    return tuple(found)


def read_process_id(bpmn: str | bytes, process_id: str | None = None) -> str:
    """The id of the process of a diagram to run (without full parsing): ``process_id`` when the diagram
    defines it, else its single executable process (a missing ``isExecutable`` counts as executable).
    DiagramError lists the processes when there is none to take or several to choose from."""
    found = list_processes(bpmn)
    ids = ", ".join(info.process_id for info in found) or "none"
    if process_id is not None:
        chosen = next((info for info in found if info.process_id == process_id), None)
        if chosen is not None and not chosen.executable:
            raise DiagramError(
                [(process_id, 'the process is marked not executable (isExecutable="false"); remove that to run it')]
            )
        if chosen is not None:
            return process_id
        raise DiagramError([("(document)", f"the diagram defines no process {process_id} (its processes: {ids})")])
    executable = [info.process_id for info in found if info.executable]
    if len(executable) == 1:
        return executable[0]
    if not found:
        raise DiagramError([("(document)", "the diagram defines no process")])
    if not executable:
        raise DiagramError(
            [("(document)", f'no process of the diagram is executable (isExecutable="false"); choose one of: {ids}')]
        )
    several = f"the diagram defines {len(executable)} executable processes ({', '.join(executable)}); choose one"
    raise DiagramError([("(document)", several)])


def called_elements(bpmn: str | bytes) -> dict[str, str]:
    """Call activity id -> the process id it calls, of one diagram (without full parsing)."""
    root = _xml(bpmn, "(document)")
    return {
        str(node.get("id")): str(node.get("calledElement") or "")
        for node in root.xpath("//bpmn:callActivity", namespaces=_NS)
    }


def named_forms(bpmn: str | bytes) -> set[str]:
    """The form files the user tasks of one diagram name, read from the XML (without parsing the process;
    empty when the XML does not parse)."""
    try:
        root = _xml(bpmn, "(document)")
    except DiagramError:
        return set()
    return {
        str(node.get("value"))
        for node in root.iter(f"{_SPIFF_NS}property")
        if node.get("name") in (FORM_SCHEMA_PROPERTY, FORM_UI_PROPERTY) and node.get("value")
    }


def parse_process(
    bpmn: str | bytes,
    decision_files: Mapping[str, str | bytes] | None = None,
    *,
    called: Mapping[str, str | bytes] | None = None,
    form_files: Mapping[str, Any] | None = None,
    known_lanes: Mapping[str, str] | None = None,
    validate_schema: bool = True,
    process_id: str | None = None,
    require_lanes: bool = True,
) -> ProcessModel:
    """Parse and validate a diagram; raise DiagramError listing every problem found.

    ``process_id`` chooses the process of a diagram that defines several (a collaboration); without it,
    the diagram must have exactly one executable process. ``called`` (name -> BPMN text) are the
    diagrams its call activities call (the shared steps), parsed with it as one bundle. ``form_files``
    (name -> content) is what the deployment can supply; when given, every form a user task references
    must be in it. ``known_lanes`` maps lane names to roles; when given, every lane of every diagram of
    the bundle must be in it. ``require_lanes=False`` accepts a task outside every lane (its lane is
    empty: only someone trying the version can take it).
    """
    process_id = read_process_id(bpmn, process_id)
    bundle = {f"{process_id}.bpmn": bpmn}
    for name, text in (called or {}).items():
        try:
            called_id = read_process_id(text)
        except DiagramError as exc:
            raise DiagramError(
                [(name if element == "(document)" else element, why) for element, why in exc.problems]
            ) from exc
        if f"{called_id}.bpmn" in bundle:
            if _as_bytes(bundle[f"{called_id}.bpmn"]) == _as_bytes(text):
                continue  # the same diagram given twice (the diagram itself among the steps, say)
            raise DiagramError([(called_id, f"two diagrams of the bundle define the process {called_id}")])
        bundle[f"{called_id}.bpmn"] = text
    problems: list[tuple[str, str]] = []
    calls = _check_bundle(bundle, problems)
    if problems:
        raise DiagramError(problems)
    # What SpiffWorkflow would refuse one at a time, or accept and then fail on, found all at once; the
    # parse goes on so that the problems it finds after these are listed with them.
    problems = [problem for text in bundle.values() for problem in unsupported_elements(text)]
    parser = SpiffBpmnParser(validator=VALIDATOR if validate_schema else None)
    try:
        for name, text in bundle.items():
            parser.add_bpmn_str(_as_bytes(text), filename=name)
        for name, text in (decision_files or {}).items():
            parser.add_dmn_str(_as_bytes(text), filename=name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DiagramError(problems or [spiff_problem(exc, {**bundle, **(decision_files or {})})]) from exc
    except (SpiffWorkflowException, etree.XMLSyntaxError) as exc:
        raise DiagramError(problems or [("(document)", _first_line(exc))]) from exc

    user_tasks = _user_tasks(spec, subprocess_specs, problems, require_lanes)
    _check_forms(user_tasks, form_files, problems)
    performer_rules = _performer_rules(spec, subprocess_specs, user_tasks, problems)
    for text in bundle.values():
        _check_performer_rule_owners(text, problems)
    lanes = tuple(sorted({info.lane for info in user_tasks.values() if info.lane}))
    for text in bundle.values():
        _check_lanes(text, known_lanes, problems)
    _check_scripts(spec, subprocess_specs, problems)
    if problems:
        raise DiagramError(problems)
    return ProcessModel(
        process_id=process_id,
        name=spec.description or process_id,
        spec=spec,
        subprocess_specs=subprocess_specs,
        user_tasks=user_tasks,
        lanes=lanes,
        statuses=_statuses(spec, subprocess_specs),
        decisions=tuple(sorted(parser.get_dmn_dependencies())),
        element_names=_element_names(spec, subprocess_specs),
        calls={element: target for element, target in calls.items() if target in subprocess_specs},
        not_by_performer_of=performer_rules,
    )


_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
_MODEL_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_SPIFF_NS = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


def _xml(text: str | bytes, name: str) -> Any:
    try:
        return etree.fromstring(_as_bytes(text))
    except etree.XMLSyntaxError as exc:
        raise DiagramError([(name, f"the XML does not parse: {exc}")]) from exc


def _check_bundle(bundle: Mapping[str, str | bytes], problems: list[tuple[str, str]]) -> dict[str, str]:
    """Across the diagram and the diagrams it calls: every element id once, every call answered by a
    process of the bundle. Returns call activity id -> called process id."""
    seen: dict[str, str] = {}
    processes: set[str] = set()
    calls: dict[str, str] = {}
    for name, text in bundle.items():
        root = _xml(text, name)
        processes.update(str(p.get("id")) for p in root.xpath("//bpmn:process", namespaces=_NS))
        for node in root.iter():
            element_id = node.get("id") if isinstance(node.tag, str) and node.tag.startswith(_MODEL_NS) else None
            if element_id is None:
                continue
            if element_id in seen:
                first = seen[element_id]
                where = f"twice in {name}" if first == name else f"in {first} and in {name}"
                problems.append((element_id, f"the id is used {where}; ids must be unique in a diagram and its steps"))
            else:
                seen[element_id] = name
        calls.update(called_elements(text))
    for element, target in calls.items():
        if not target:
            problems.append((element, "the call activity names no calledElement"))
        elif target not in processes:
            problems.append((element, f"the call activity calls {target}, which no diagram of the bundle defines"))
    return calls


def _all_specs(spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]) -> list[Any]:
    """Every task spec of the process and of the processes it calls, in diagram order: a called
    process's tasks right after the call activity that calls it (first call)."""
    task_specs: list[Any] = []
    visited: set[str] = set()

    def walk(process: BpmnProcessSpec) -> None:
        for task_spec in process.task_specs.values():
            task_specs.append(task_spec)
            called = getattr(task_spec, "spec", None)  # a call activity's (or subprocess's) process id
            if isinstance(called, str) and called not in visited and subprocess_specs.get(called) is not None:
                visited.add(called)
                walk(subprocess_specs[called])

    walk(spec)
    for name, sub in subprocess_specs.items():
        if sub is not None and name not in visited:
            visited.add(name)
            walk(sub)
    return task_specs


def _properties(task_spec: Any) -> dict[str, str]:
    extensions = getattr(task_spec, "extensions", None) or {}
    return dict(extensions.get("properties", {}))


def _user_tasks(
    spec: BpmnProcessSpec,
    subprocess_specs: Mapping[str, BpmnProcessSpec],
    problems: list[tuple[str, str]],
    require_lanes: bool = True,
) -> dict[str, UserTaskInfo]:
    """Every task a person does: user tasks, manual tasks and plain tasks (SpiffWorkflow waits for someone
    to complete each of them). One without a form is a confirmation task."""
    tasks: dict[str, UserTaskInfo] = {}
    for task_spec in _all_specs(spec, subprocess_specs):
        if not is_human_task(task_spec):
            continue
        props = _properties(task_spec)
        element_id = task_spec.bpmn_id
        if not task_spec.lane and require_lanes:
            problems.append((element_id, "the task is in no lane, so no role can do it; put it in a lane"))
        for key in (FORM_SCHEMA_PROPERTY, FORM_UI_PROPERTY):
            name = props.get(key)
            if name and not plain_file_name(name):
                problems.append(
                    (
                        element_id,
                        f"{key} names {name}: a form is a plain file name beside the diagram's forms, "
                        "without a folder or '..'",
                    )
                )
        tasks[element_id] = UserTaskInfo(
            element_id=element_id,
            name=task_spec.bpmn_name or element_id,
            lane=task_spec.lane or "",
            form_schema=props.get(FORM_SCHEMA_PROPERTY) or None,
            form_ui_schema=props.get(FORM_UI_PROPERTY) or None,
            status=props.get(STATUS_PROPERTY) or None,
            kind=_human_kind(task_spec),
        )
    return tasks


def plain_file_name(name: str) -> bool:
    """True for a file name without a folder: no ``/`` or ``\\``, not ``..`` or hidden, no drive letter."""
    return bool(name) and not (
        "/" in name or "\\" in name or ":" in name or name.startswith(".") or "\0" in name or name != name.strip()
    )


def is_human_task(task_spec: Any) -> bool:
    """True for a task spec that waits for a person: a user task, a manual task or a plain task."""
    return isinstance(task_spec, UserTaskMixin | ManualTaskMixin | NoneTaskMixin)


def _human_kind(task_spec: Any) -> str:
    if isinstance(task_spec, ManualTaskMixin):
        return "manualTask"
    if isinstance(task_spec, NoneTaskMixin):
        return "task"
    return "userTask"


def _performer_rules(
    spec: BpmnProcessSpec,
    subprocess_specs: Mapping[str, BpmnProcessSpec],
    user_tasks: Mapping[str, UserTaskInfo],
    problems: list[tuple[str, str]],
) -> dict[str, tuple[str, ...]]:
    """The four-eyes rules (``notByPerformerOf``): on a user task or a call activity, user tasks of the bundle."""
    rules: dict[str, tuple[str, ...]] = {}
    for task_spec in _all_specs(spec, subprocess_specs):
        value = _properties(task_spec).get(NOT_BY_PERFORMER_PROPERTY)
        if value is None:
            continue
        element_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
        if not (is_human_task(task_spec) or isinstance(task_spec, SubWorkflowTask)):
            continue  # refused by _check_performer_rule_owners, which sees every element of the XML
        named = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
        if not named:
            problems.append((element_id, f"{NOT_BY_PERFORMER_PROPERTY} names no user task"))
        for other in named:
            if other not in user_tasks:
                problems.append(
                    (
                        element_id,
                        f"{NOT_BY_PERFORMER_PROPERTY} names {other}, which is no user task of this diagram "
                        "or of the steps it calls",
                    )
                )
        if named:
            rules[element_id] = named
    return rules


_RULE_OWNERS = {f"{_MODEL_NS}{tag}" for tag in ("userTask", "manualTask", "task", "callActivity")}


def _check_performer_rule_owners(bpmn: str | bytes, problems: list[tuple[str, str]]) -> None:
    """A ``notByPerformerOf`` property on anything but a user task or a call activity is refused (SpiffWorkflow
    does not even read the properties of most other elements, so the rule would silently do nothing)."""
    root = _xml(bpmn, "(document)")
    for node in root.iter(f"{_SPIFF_NS}property"):
        if node.get("name") != NOT_BY_PERFORMER_PROPERTY:
            continue
        owner = node
        for _ in range(3):  # property -> properties -> extensionElements -> the element
            owner = owner.getparent() if owner is not None else None
        if owner is None or owner.tag not in _RULE_OWNERS:
            element = owner.get("id") if owner is not None and owner.get("id") else "(document)"
            problems.append((element, f"{NOT_BY_PERFORMER_PROPERTY} belongs on a user task or a call activity"))


def _check_forms(
    user_tasks: Mapping[str, UserTaskInfo],
    form_files: Mapping[str, Any] | None,
    problems: list[tuple[str, str]],
) -> None:
    if form_files is None:
        return
    for info in user_tasks.values():
        for name in (info.form_schema, info.form_ui_schema):
            if name and name not in form_files:
                problems.append((info.element_id, f"the form file {name} does not exist"))


def _check_lanes(bpmn: str | bytes, known_lanes: Mapping[str, str] | None, problems: list[tuple[str, str]]) -> None:
    if known_lanes is None:
        return
    root = etree.fromstring(_as_bytes(bpmn))
    for lane in root.xpath("//bpmn:lane", namespaces=_NS):
        name = lane.get("name") or ""
        if name not in known_lanes:
            known = ", ".join(sorted(known_lanes))
            problems.append((lane.get("id") or name, f"the lane '{name}' maps to no known role (known lanes: {known})"))


def _scripts_of(task_spec: Any) -> list[tuple[str, str]]:
    """Every piece of code a task spec carries, as (source, compile mode)."""
    found: list[tuple[str, str]] = []
    for attribute in ("script", "prescript", "postscript"):
        source = getattr(task_spec, attribute, None)
        if isinstance(source, str) and source.strip():
            found.append((source, "exec"))
    found.extend((condition, "eval") for condition in gateway_conditions(task_spec))
    definition = getattr(task_spec, "event_definition", None)
    for item in getattr(definition, "event_definitions", None) or [definition]:
        expression = getattr(item, "expression", None)
        if isinstance(expression, str) and expression.strip():
            found.append((expression, "eval"))
    return found


def _check_scripts(
    spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec], problems: list[tuple[str, str]]
) -> None:
    """Compile every script, condition, timer and decision-table expression under the sandbox, at deployment."""
    for task_spec in _all_specs(spec, subprocess_specs):
        element_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
        for source, mode in _scripts_of(task_spec):
            if mode == "eval" and other_expression_language(source):
                continue  # named on its flow, with what to write instead (unsupported_elements)
            try:
                compile_script(source, mode)
            except ScriptError as exc:
                problems.append((element_id, exc.detail))
        for expression in decision_expressions(task_spec):
            try:
                compile_script(expression.source.strip(), "eval")
            except ScriptError as exc:
                problems.append((expression.element_id, f"{expression.where} (used by {element_id}): {exc.detail}"))


def _statuses(spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for task_spec in _all_specs(spec, subprocess_specs):
        status = _properties(task_spec).get(STATUS_PROPERTY)
        if status and getattr(task_spec, "bpmn_id", None):
            statuses[task_spec.bpmn_id] = status
    return statuses


def _element_names(spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]) -> dict[str, str]:
    names: dict[str, str] = {}
    for task_spec in _all_specs(spec, subprocess_specs):
        element_id = getattr(task_spec, "bpmn_id", None)
        name = getattr(task_spec, "bpmn_name", None)
        if element_id and name:
            names[element_id] = name
    return names


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def _as_bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else text


def canonical_json(value: Any) -> str:
    """Serialize JSON deterministically (sorted keys, no spaces) for hashing and storage."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
