"""What the engine cannot run in a diagram from another modeler, said in plain words naming the element.

Diagrams from Camunda, Signavio, Bizagi, ADONIS, ARIS or Enterprise Architect carry things SpiffWorkflow
does not run (data stores, service tasks done by a vendor's job workers, implicit splits) or runs only to
fail later (an empty timer date, a timer written as ``PT1H`` rather than the Python text ``"PT1H"``).
``unsupported_elements`` finds them in the XML before SpiffWorkflow parses, every one at once;
``spiff_problem`` turns what SpiffWorkflow's parser (or the BPMN 2.0 schema check) raises into one
``(element, message)`` problem, with the line for a schema error. Messages are English; callers translate.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_M = f"{{{_BPMN}}}"
_NS = {"bpmn": _BPMN}
_SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
# Activities SpiffWorkflow lets have one outgoing flow only (gateways and events may have several).
_ACTIVITIES = (
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
)
_TIMER_TAGS = {f"{_M}{tag}" for tag in ("timeDate", "timeDuration", "timeCycle")}
_CONDITIONAL_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")
# An ISO 8601 duration, date(-time) or repetition written as it stands, not as a Python string.
_ISO_LITERAL = re.compile(r"^(R\d*/)?(P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?)$")


def unsupported_elements(bpmn: str | bytes) -> list[tuple[str, str]]:
    """Every element of one diagram the engine cannot run as written, each with what to do instead."""
    try:
        root = etree.fromstring(bpmn.encode("utf-8") if isinstance(bpmn, str) else bpmn)
    except etree.XMLSyntaxError:
        return []  # the caller names the syntax error
    problems: list[tuple[str, str]] = []
    problems.extend(_timer_problems(root))
    problems.extend(_data_store_problems(root))
    problems.extend(_service_task_problems(root))
    problems.extend(_split_problems(root))
    problems.extend(_data_object_problems(root))
    problems.extend(_expression_language_problems(root))
    return problems


def other_expression_language(text: str) -> bool:
    """True for an expression in Camunda's or Activiti's expression language (``${approved}``, ``#{...}``), or
    in FEEL (``=amount > 1000``, Camunda 8), which the engine, evaluating Python, cannot run."""
    stripped = text.strip()
    return stripped.startswith(("${", "#{")) or (stripped.startswith("=") and not stripped.startswith("=="))


def _expression_language_problems(root: Any) -> list[tuple[str, str]]:
    problems = []
    for condition in root.iter(f"{_M}conditionExpression"):
        if other_expression_language(condition.text or ""):
            flow = condition.getparent()
            problems.append(
                (
                    str(flow.get("id")),
                    f"the condition {(condition.text or '').strip()} is in another engine's expression language; "
                    "write it in Python, such as: approved == True",
                )
            )
    return problems


def _data_object_problems(root: Any) -> list[tuple[str, str]]:
    """SpiffWorkflow copies a task's variable named like the data object it writes into the data object (and
    fails the case when the task did not set it), and fails a task that reads a data object nobody wrote."""
    objects = {str(node.get("id")): str(node.get("name") or node.get("id")) for node in root.iter(f"{_M}dataObject")}
    refs = {str(node.get("id")): str(node.get("dataObjectRef")) for node in root.iter(f"{_M}dataObjectReference")}
    written: set[str] = set()
    problems: list[tuple[str, str]] = []
    for association in root.iter(f"{_M}dataOutputAssociation"):
        target = next(association.iter(f"{_M}targetRef"), None)
        object_id = refs.get((target.text or "").strip(), (target.text or "").strip()) if target is not None else ""
        if object_id not in objects:
            continue
        written.add(object_id)
        task = association.getparent()
        if not _sets_variable(task, object_id):
            problems.append(
                (
                    str(task.get("id")),
                    f"the task writes the data object '{objects[object_id]}', so it must set the variable {object_id} "
                    f"(in its script or as a form field); set it, or remove the association",
                )
            )
    for association in root.iter(f"{_M}dataInputAssociation"):
        source = next(association.iter(f"{_M}sourceRef"), None)
        object_id = refs.get((source.text or "").strip(), (source.text or "").strip()) if source is not None else ""
        if object_id in objects and object_id not in written:
            problems.append(
                (
                    str(association.getparent().get("id")),
                    f"the task reads the data object '{objects[object_id]}', which no task writes; "
                    "draw the association from the task that sets it, or remove this one",
                )
            )
    return problems


def _sets_variable(task: Any, name: str) -> bool:
    """Whether a task can set ``name``: a script that assigns it, or a user task with a form (its fields)."""
    if etree.QName(task).localname == "userTask":
        return any(p.get("name") == "formJsonSchemaFilename" for p in task.iter(f"{_SPIFF}property"))
    script = next(task.iter(f"{_M}script"), None)
    if script is None or not (script.text or "").strip():
        return False
    try:
        tree = ast.parse(script.text)
    except SyntaxError:
        return True  # the sandbox names the syntax error
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name for n in ast.walk(tree))


def _timer_problems(root: Any) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for definition in root.iter(f"{_M}timerEventDefinition"):
        event = definition.getparent()
        element = str(event.get("id") or definition.get("id") or "(document)")
        found = [child for child in definition if child.tag in _TIMER_TAGS]
        if not found:
            problems.append((element, 'the timer has no date, duration or cycle; give it a duration such as "P5D"'))
            continue
        node = found[0]
        kind = etree.QName(node).localname
        text = (node.text or "").strip()
        what = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}[kind]
        if not text:
            example = '"2025-01-31T09:00:00+07:00"' if kind == "timeDate" else '"P5D"'
            problems.append((element, f"the timer's {what} is empty; write one in quotes, such as {example}"))
            continue
        if kind == "timeCycle" and not _repeats_alongside(event):
            problems.append(
                (
                    element,
                    f"the timer repeats ({text}), which only a non-interrupting boundary timer can do (it starts its "
                    'branch each time while the task waits); make it one, or give it a duration such as "PT1H"',
                )
            )
            continue
        if other_expression_language(text):
            problems.append(
                (
                    element,
                    f"the timer's {what} {text} is in another engine's expression language; write it in Python: "
                    'a quoted text such as "P5D", or the name of a variable that holds one',
                )
            )
            continue
        if _ISO_LITERAL.match(text):
            problems.append(
                (
                    element,
                    f"the timer's {what} {text} is read as a Python expression, where it means nothing; "
                    f'write it in quotes: "{text}"',
                )
            )
    return problems


def _repeats_alongside(event: Any) -> bool:
    """True for a non-interrupting boundary event: the one place a repeating timer's rounds make sense."""
    return etree.QName(event).localname == "boundaryEvent" and event.get("cancelActivity") == "false"


def _data_store_problems(root: Any) -> list[tuple[str, str]]:
    stores = {str(node.get("id")): str(node.get("name") or node.get("id")) for node in root.iter(f"{_M}dataStore")}
    problems: list[tuple[str, str]] = []
    referenced: set[str] = set()
    for ref in root.iter(f"{_M}dataStoreReference"):
        target = str(ref.get("dataStoreRef") or "")
        referenced.add(target)
        name = stores.get(target) or ref.get("name") or target
        problems.append(
            (
                str(ref.get("id") or target),
                f"the data store '{name}' has nothing behind it in this engine; remove it and its associations, "
                "and keep what the tasks need in the case data (a form field or a script variable)",
            )
        )
    for store_id, name in stores.items():
        if store_id not in referenced:
            problems.append((store_id, f"the data store '{name}' has nothing behind it in this engine; remove it"))
    return problems


def _service_task_problems(root: Any) -> list[tuple[str, str]]:
    problems = []
    for task in root.iter(f"{_M}serviceTask"):
        if next(task.iter(f"{_SPIFF}serviceTaskOperator"), None) is None:
            problems.append(
                (
                    str(task.get("id")),
                    "the service task names no operator the engine can call (another engine's job worker would do "
                    "it); make it a script task, or a user task someone completes",
                )
            )
    return problems


def _split_problems(root: Any) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for process in (*root.iter(f"{_M}process"), *root.iter(f"{_M}subProcess"), *root.iter(f"{_M}transaction")):
        flows = [child for child in process if child.tag == f"{_M}sequenceFlow"]
        outgoing: dict[str, list[Any]] = {}
        for flow in flows:
            outgoing.setdefault(str(flow.get("sourceRef")), []).append(flow)
        for node in process:
            if not isinstance(node.tag, str):
                continue
            name = etree.QName(node).localname
            leaving = outgoing.get(str(node.get("id")), [])
            if name in _ACTIVITIES and len(leaving) > 1:
                problems.append(
                    (
                        str(node.get("id")),
                        f"{len(leaving)} flows leave the task directly; draw a parallel gateway after it to run "
                        "the branches together, or an exclusive gateway with a condition on each flow to take one",
                    )
                )
            elif name in _CONDITIONAL_GATEWAYS and len(leaving) > 1:
                default = node.get("default")
                for flow in leaving:
                    has_condition = next(flow.iter(f"{_M}conditionExpression"), None) is not None
                    if flow.get("id") != default and not has_condition:
                        problems.append(
                            (
                                str(flow.get("id")),
                                f"the flow leaves the gateway {node.get('id')} without a condition, and it is not the "
                                "gateway's default flow; give it a condition, or make it the default flow",
                            )
                        )
    return problems


def spiff_problem(exc: ValidationException, files: Mapping[str, str | bytes]) -> tuple[str, str]:
    """What SpiffWorkflow's parser refused, as ``(element, message)``: a schema error names the element
    (the nearest with an id) and its line."""
    text = (str(exc).strip() or exc.__class__.__name__).splitlines()[0]
    line = getattr(exc, "line_number", "") or ""
    element = str(getattr(exc, "id", "") or "")
    if not element and line:
        element = _element_at_line(files.get(str(getattr(exc, "file_name", "") or "")), int(line))
    text = _plain_schema_text(text)
    if line and not getattr(exc, "id", ""):
        text = f"line {line}: {text}"
    return element or "(document)", text


_EXPECTED = re.compile(r"Expected is (one of )?\( ?(.*?) ?\)")


def _plain_schema_text(text: str) -> str:
    """A schema error in words: ``{namespace}tag`` shortened to ``bpmn:tag``, Spiff's trailing dots gone."""
    text = re.sub(r"\{" + re.escape(_BPMN) + r"\}", "bpmn:", text)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = text.replace("This element is not expected.", "the BPMN 2.0 schema does not allow this element here.")
    text = _EXPECTED.sub(lambda m: "Allowed here: " + m.group(2).replace(" ,", ","), text)
    return text.rstrip(".") + "."


def _element_at_line(source: str | bytes | None, line: int) -> str:
    """The id of the element on ``line`` of a diagram, or of the nearest enclosing element that has one."""
    if source is None:
        return ""
    try:
        root = etree.fromstring(source.encode("utf-8") if isinstance(source, str) else source)
    except etree.XMLSyntaxError:
        return ""
    node = next((n for n in root.iter() if isinstance(n.tag, str) and n.sourceline == line), None)
    while node is not None and not node.get("id"):
        node = node.getparent()
    return str(node.get("id")) if node is not None else ""
