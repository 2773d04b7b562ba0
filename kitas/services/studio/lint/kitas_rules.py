"""The KITAS rules: what a diagram needs to be a KITAS process, beyond what the engine can execute
(design decision 17): lanes that map to roles, forms that exist, SLA timers on officers' tasks, payment
before verification, every label in Bahasa Indonesia, calls that resolve, timers that parse."""

from __future__ import annotations

import ast
import builtins
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from engine.sandbox import HELPERS
from forms.texts import Message

from .diagram import Diagram, Node
from .report import ERROR, WARNING, Problem

FORM_SCHEMA = "formJsonSchemaFilename"
FORM_UI = "formUiSchemaFilename"
OFFICER_ROLES = ("verifier", "supervisor")
PAYMENT_PROCESS = "shared_payment"


# The sentences an engine or deployment refusal and a rule of ours share (so the two say it once).


def no_lane() -> Message:
    return Message("This task is in no lane, so nobody can do it. Move it into a lane such as Applicant or Verifier.")


def unknown_lane(name: str, known: str) -> Message:
    return Message(
        "The lane “%(lane)s” maps to no role, so nobody can do its tasks. Rename it to one of: %(known)s.",
        lane=name,
        known=known,
    )


def no_form() -> Message:
    return Message(
        "This task names no form (formJsonSchemaFilename), so it shows only a Confirm button. Pick a form "
        "if the person must fill something in."
    )


def missing_form(name: str) -> Message:
    return Message(
        "The form file %(form)s does not exist among the diagram's files. Add the form, or pick one that exists.",
        form=name,
    )


def no_called_element() -> Message:
    return Message("This call activity names no process to call. Pick the process (a shared step) it calls.")


def unresolved_call(target: str) -> Message:
    return Message(
        "This call activity calls %(process)s, which is neither in this file nor deployed. Deploy %(process)s "
        "first, or pick another process.",
        process=target,
    )


def empty_timer() -> Message:
    return Message(
        "This timer is empty, so the case would fail when it reaches it. Write a duration such as "
        '"P5D" (with the quotes).'
    )


def unquoted_timer(text: str) -> Message:
    return Message(
        "The timer %(text)s is not quoted: the engine reads it as Python code and fails. Write it "
        'with quotes: "%(text)s".',
        text=text,
    )


def repeating_timer(text: str) -> Message:
    return Message(
        "This timer repeats (%(text)s), which only a non-interrupting boundary timer can do (it starts its "
        'branch each round while the task waits). Make it one, or give it a duration such as "PT1H".',
        text=text,
    )


def lane_problems(diagram: Diagram, lane_roles: Mapping[str, str]) -> Iterator[Problem]:
    """Every user task in a lane, every lane a known role."""
    known = ", ".join(sorted(lane_roles))
    for lane_id, name in diagram.lanes.items():
        if name not in lane_roles:
            yield Problem(lane_id, ERROR, "kitas/lane-role", unknown_lane(name, known))
    # Manual and plain tasks run as confirmation tasks for their lane's role, like user tasks.
    for node in diagram.of_kind("userTask", "manualTask", "task"):
        if node.lane is None:
            yield Problem(node.id, ERROR, "kitas/lane-role", no_lane())


def form_problems(diagram: Diagram, files: Mapping[str, str]) -> Iterator[Problem]:
    """Every user task names a form, and the forms it names are among the files."""
    for node in diagram.of_kind("userTask"):
        schema = node.properties.get(FORM_SCHEMA)
        if not schema:
            yield Problem(node.id, WARNING, "kitas/form-exists", no_form())
        for name in (schema, node.properties.get(FORM_UI)):
            if name and name not in files:
                yield Problem(node.id, ERROR, "kitas/form-exists", missing_form(name))


def sla_problems(diagram: Diagram, lane_roles: Mapping[str, str]) -> Iterator[Problem]:
    """Every officer's task (a lane whose role is verifier or supervisor) carries an SLA: a timer on its border."""
    for node in diagram.of_kind("userTask", "manualTask"):
        if lane_roles.get(node.lane or "") not in OFFICER_ROLES:
            continue
        if not any("timerEventDefinition" in b.event_definitions for b in diagram.boundary_of(node.id)):
            yield Problem(
                node.id,
                WARNING,
                "kitas/sla-timer",
                Message(
                    "This officer's task has no SLA timer, so nobody is told when it is late. Attach a timer "
                    "boundary event (non-interrupting, for example “P5D”) to it."
                ),
            )


def call_problems(diagram: Diagram, resolvable: set[str]) -> Iterator[Problem]:
    """Every call activity calls a process of this file, of the files given or of the deployed ones."""
    for node in diagram.of_kind("callActivity"):
        if not node.called_element:
            yield Problem(node.id, ERROR, "kitas/call-resolves", no_called_element())
        elif node.called_element not in resolvable:
            yield Problem(node.id, ERROR, "kitas/call-resolves", unresolved_call(node.called_element))


def payment_problems(
    diagram: Diagram, lane_roles: Mapping[str, str], called: Mapping[str, Diagram]
) -> Iterator[Problem]:
    """In a type's process, no verification is reached from the start without passing a payment step."""
    if diagram.process_id.startswith("shared_"):
        return  # a shared step is one part of a type's process; the type's diagram orders them

    def is_payment(node: Node) -> bool:
        return node.called_element == PAYMENT_PROCESS or "payment" in (node.lane or "").lower()

    def is_verification(node: Node) -> bool:
        if node.kind == "userTask":
            return lane_roles.get(node.lane or "") == "verifier"
        target = called.get(node.called_element or "")
        return target is not None and any(
            lane_roles.get(n.lane or "") == "verifier" for n in target.of_kind("userTask")
        )

    if not any(is_payment(n) for n in diagram.nodes.values()) and not any(
        is_verification(n) for n in diagram.nodes.values()
    ):
        return
    reached: set[str] = set()
    pending = [n.id for n in diagram.of_kind("startEvent") if n.container == diagram.process_id]
    while pending:
        node = diagram.nodes.get(pending.pop())
        if node is None or node.id in reached:
            continue
        reached.add(node.id)
        if is_payment(node):
            continue
        if is_verification(node):
            yield Problem(
                node.id,
                WARNING,
                "kitas/payment-before-verification",
                Message(
                    "A case can reach this verification without paying the fee first. Put the payment step "
                    "(a call to shared_payment) on every path before it."
                ),
            )
            continue
        pending.extend(diagram.flows[f].target for f in node.outgoing if f in diagram.flows)
        pending.extend(b.id for b in diagram.boundary_of(node.id))


def label_problems(diagram: Diagram, texts: Mapping[str, str] | None) -> Iterator[Problem]:
    """Every named element has its Indonesian name in the diagram's texts file (``NAME.id.json``)."""
    named = [n for n in diagram.nodes.values() if n.name]
    if not named:
        return
    if texts is None:
        yield Problem(
            "(document)",
            WARNING,
            "kitas/labels-translated",
            Message(
                "The diagram has no Indonesian texts file (like kitas_worker.id.json), so people reading "
                "Bahasa Indonesia see the English names. Add the file with a name for each element."
            ),
        )
        return
    for node in named:
        if f"/{node.id}" not in texts:
            yield Problem(
                node.id,
                WARNING,
                "kitas/labels-translated",
                Message(
                    "“%(name)s” has no Indonesian name, so Indonesian readers see the English one. Add "
                    "“/%(id)s” to the diagram's .id.json file.",
                    name=node.name,
                    id=node.id,
                ),
            )


_DURATION = re.compile(
    r"^P(?!$)(\d+([.,]\d+)?Y)?(\d+([.,]\d+)?M)?(\d+([.,]\d+)?W)?(\d+([.,]\d+)?D)?(T(?=\d)(\d+([.,]\d+)?H)?(\d+([.,]\d+)?M)?(\d+([.,]\d+)?S)?)?$"
)
_CYCLE = re.compile(r"^R(\d*)/(.+)$")
# An ISO 8601 text written without quotes (P5D, R3/PT1H, 2026-01-31T09:00): not a name of the case's data.
_LOOKS_LITERAL = re.compile(r"^(R\d*/)?(P[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}\S*)(/\S+)?$")


def timer_problems(diagram: Diagram) -> Iterator[Problem]:
    """Every timer's text parses: a quoted ISO 8601 duration, date or cycle (design decision 6), or an
    expression the case computes (checked when it runs)."""
    for node in diagram.nodes.values():
        for kind, text in node.timers:
            message = _timer_message(kind, text.strip())
            if message is not None:
                severity, words = message
                yield Problem(node.id, severity, "kitas/timer-parses", words)


def _timer_message(kind: str, text: str) -> tuple[str, Message] | None:
    if not text:
        return ERROR, empty_timer()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if _LOOKS_LITERAL.match(text):
            return ERROR, unquoted_timer(text)
        return None  # an expression of the case's data, such as a variable: checked when it runs
    if not isinstance(value, str):
        return ERROR, Message('The timer %(text)s is not a text. Write an ISO 8601 duration such as "P5D".', text=text)
    if not _valid_timer(kind, value.strip()):
        return ERROR, Message(
            'The timer “%(value)s” is not an ISO 8601 %(kind)s. Write a duration such as "P5D" or "PT4H", '
            'a date such as "2026-01-31T09:00:00+07:00", or a cycle such as "R3/PT1H".',
            value=value,
            kind=_KIND_WORDS.get(kind, kind),
        )
    if kind == "timeDate" and datetime.fromisoformat(value.strip()).tzinfo is None:
        return WARNING, Message(
            "The date “%(value)s” has no time zone, so it is read in the server's zone. Add the offset, "
            "for example +07:00 for WIB.",
            value=value,
        )
    return None


_KIND_WORDS = {
    "timeDuration": Message("duration"),
    "timeDate": Message("date"),
    "timeCycle": Message("cycle"),
}


def _valid_timer(kind: str, value: str) -> bool:
    if kind == "timeDuration":
        return bool(_DURATION.match(value.upper()))
    if kind == "timeDate":
        return _valid_date(value)
    match = _CYCLE.match(value.upper())
    if match is None:
        return False
    parts = match.group(2).split("/")
    return (
        1 <= len(parts) <= 2
        and sum(bool(_DURATION.match(p)) for p in parts) >= 1
        and all(_DURATION.match(p) or _valid_date(p) for p in parts)
    )


def _valid_date(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def condition_name_problems(
    diagram: Diagram, bundle: Mapping[str, Diagram], files: Mapping[str, str], decision_outputs: set[str]
) -> Iterator[Problem]:
    """Every name a gateway's condition reads is set somewhere: a form field of the diagram or of a step it
    calls, a script's variable, a decision table's output, a message's variable, or the data a case starts
    with. A misspelt answer (``sponsor_decison``) would otherwise fail the case at the gateway."""
    known = set(decision_outputs) | set(dir(builtins)) | set(HELPERS) | set(START_DATA)
    for linted in (diagram, *bundle.values()):
        for node in linted.nodes.values():
            known.update(_set_by(node, files))
    for flow in diagram.flows.values():
        if not flow.condition or not flow.condition.strip():
            continue
        try:
            tree = ast.parse(flow.condition.strip(), mode="eval")
        except SyntaxError:
            continue  # the engine's compile names it
        local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        read = sorted(
            {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - known - local
        )
        for name in read:
            yield Problem(
                flow.id,
                WARNING,
                "kitas/form-fields",
                Message(
                    "The condition reads %(name)s, which no form field, script or step of this diagram sets, so "
                    "the case would fail here. Check the spelling, or add the field to a form before it.",
                    name=name,
                ),
            )


# What every case's data holds from its start (services/cases put it there), whatever its diagram.
START_DATA = ("kitas_type", "index_code")


def _set_by(node: Node, files: Mapping[str, str]) -> set[str]:
    """The names one element puts into the case data."""
    names: set[str] = set()
    schema = node.properties.get(FORM_SCHEMA)
    if schema and schema in files:
        try:
            names.update(_property_names(json.loads(files[schema])))
        except ValueError:
            pass
    element = node.xml
    if element is None:
        return names
    for child in element.iter():
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag.endswith("}script") or tag.endswith("}preScript") or tag.endswith("}postScript"):
            names.update(_assigned(child.text or ""))
        elif tag.endswith("}messageVariable") and child.text:
            names.add(child.text.strip())
    return names


def _property_names(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                found.update(str(name) for name in value)
            found.update(_property_names(value))
    elif isinstance(schema, list):
        for item in schema:
            found.update(_property_names(item))
    return found


def _assigned(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names.update(n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))
    return names
