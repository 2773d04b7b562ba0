"""The engine's own checks and what deployment refuses, as lint problems in plain words.

``parse`` is the ONE call of ``engine.parse_process`` in the lint (the engine's keywords change there).
Without a database (a CI repository of diagrams), what deployment checks is done here the same way
from the files at hand: the called diagrams come from the files or the disk instead of the deployed
versions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from flask import has_app_context
from sqlalchemy import inspect as inspect_database
from sqlalchemy.exc import SQLAlchemyError

import forms
from engine import DiagramError, ProcessModel, parse_process, read_process_id
from forms.texts import Message, missing_texts, parse_texts
from workflows import catalog

from ....extensions import db
from ...deployments import check_deployable
from . import kitas_rules, modeling
from .report import DOCUMENT, ERROR, Problem

Raw = tuple[str, str]  # (element or file, the engine's or deployment's English text)


def parse(
    bpmn: str,
    decisions: Mapping[str, str],
    called: Mapping[str, str],
    *,
    process_id: str | None,
    form_files: Mapping[str, str] | None = None,
    known_lanes: Mapping[str, str] | None = None,
) -> tuple[ProcessModel | None, list[Raw]]:
    """``engine.parse_process`` on the diagram: the model, or the problems it refuses the diagram for.
    ``known_lanes`` None asks only what the engine can run (lanes are then the lint's rule)."""
    try:
        model = parse_process(
            bpmn,
            dict(decisions),
            called=dict(called),
            form_files=form_files,
            known_lanes=known_lanes,
            process_id=process_id,
            require_lanes=known_lanes is not None,
        )
    except DiagramError as exc:
        return None, [(str(element), str(why)) for element, why in exc.problems]
    except Exception as exc:  # noqa: BLE001  (an engine crash on a foreign file is a problem to show, not a 500)
        return None, [(DOCUMENT, f"{exc.__class__.__name__}: {exc}")]
    return model, []


def database_ready() -> bool:
    """Whether there is a KITAS database to ask for deployed versions (an empty SQLite file is none)."""
    if not has_app_context():
        return False
    try:
        engine = db.engine
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            if database and database != ":memory:" and not Path(database).is_file():
                return False
        return bool(inspect_database(engine).has_table("process_definition"))
    except SQLAlchemyError:
        return False


def deploy_problems(bpmn: str, files: Mapping[str, str], process_id: str | None = None) -> list[Raw]:
    """What deployment refuses the diagram and its files for (the database's deployed versions bundled)."""
    try:
        found = check_deployable(bpmn, dict(files), process_id=process_id)
    except Exception as exc:  # noqa: BLE001  (a crash on a foreign file is a problem to show, not a 500)
        return [(DOCUMENT, f"{exc.__class__.__name__}: {exc}")]
    return [(str(element), str(why)) for element, why in found]


def offline_deploy_problems(
    bpmn: str,
    files: Mapping[str, str],
    called: Mapping[str, str],
    process_id: str | None,
    lane_roles: Mapping[str, str],
) -> list[Raw]:
    """What deployment checks, without a database: the engine with the forms and the known lanes, each
    form's schema and rules, the translations files."""
    decisions = {name: text for name, text in files.items() if name.endswith(".dmn")}
    form_files = {name: text for name, text in files.items() if not name.endswith(".dmn")}
    problems: list[Raw] = []
    try:
        read_process_id(bpmn, process_id)  # deployment takes the chosen (or the one executable) process
    except DiagramError as exc:
        problems.extend((str(element), str(why)) for element, why in exc.problems)
    model, parsed = parse(bpmn, decisions, called, process_id=process_id, form_files=form_files, known_lanes=lane_roles)
    problems.extend(parsed)
    if model is None:
        return problems
    problems.extend(form_content_problems(model, form_files))
    problems.extend(texts_problems(model, form_files))
    return problems


def form_content_problems(model: ProcessModel, form_files: Mapping[str, str]) -> list[Raw]:
    """Each form loads and is well made, and the fields its rules name exist (as deployment says it)."""
    problems: list[Raw] = []
    loaded: dict[str, forms.FormSpec] = {}
    for info in model.user_tasks.values():
        if not info.form_schema or info.form_schema not in form_files:
            continue
        try:
            form = forms.load_form(
                form_files[info.form_schema], form_files.get(info.form_ui_schema or ""), info.form_schema
            )
        except forms.FormError as exc:
            problems.append((info.element_id, str(exc)))
            continue
        problems.extend(
            (info.element_id, f"{info.form_schema}: {p}") for p in forms.check_form(form.schema, form.ui_schema)
        )
        loaded[info.element_id] = form
    answers = {f.name for form in loaded.values() for f in form.fields}
    kitas_type = next((t for t in catalog().types if t.process_id == model.process_id), None)
    values = kitas_type.named_values() if kitas_type is not None else None
    for element_id, form in loaded.items():
        problems.extend((element_id, f"{form.name}: {p}") for p in forms.check_rules(form, answers, values))
    return problems


def texts_problems(model: ProcessModel, files: Mapping[str, str]) -> list[Raw]:
    """Each translations file is valid and names only what its form (or the diagram) has."""
    problems: list[Raw] = []
    used = model.form_files()
    for name, text in sorted(files.items()):
        if not name.endswith(".id.json") or name.startswith("called/"):
            continue
        source = name.removesuffix(".id.json") + ".json"
        if source in files and source not in used:
            continue
        try:
            texts = parse_texts(text, name)
        except ValueError as exc:
            problems.append((name, str(exc)))
            continue
        if source in files:
            try:
                stale = missing_texts(json.loads(files[source]), texts)[1]
            except ValueError:
                continue
            what = f"{source} has no text at"
        else:
            stale = sorted(set(texts) - {f"/{element}" for element in model.element_names})
            what = "the diagram has no named element"
        if stale:
            problems.append((name, f"{what} {', '.join(stale)}"))
    return problems


# The engine's and deployment's sentences we know, in plain words with what to do. Each pattern's
# groups feed its sentence; the rule says which family of the lint it belongs to.
_KNOWN: list[tuple[re.Pattern[str], str, Callable[[re.Match[str]], Message]]] = [
    (re.compile(r"^No start event found"), "start-event-required", lambda m: modeling.no_start()),
    (
        re.compile(r"^Non-default exclusive outgoing sequence flow without condition"),
        "conditional-flows",
        lambda m: modeling.flow_without_condition(),
    ),
    (
        re.compile(r"^Multiple outgoing flows are not supported"),
        "no-implicit-split",
        lambda m: modeling.implicit_split(),
    ),
    # engine/foreign.py's words for the same problems map alike.
    (re.compile(r"flows leave the task directly"), "no-implicit-split", lambda m: modeling.implicit_split()),
    (
        re.compile(r"^the flow leaves the gateway (\S+) without a condition"),
        "conditional-flows",
        lambda m: modeling.flow_without_condition(),
    ),
    (
        re.compile(r"^the timer has no date, duration or cycle"),
        "kitas/timer-parses",
        lambda m: kitas_rules.empty_timer(),
    ),
    (re.compile(r"^the timer's \w+ is empty"), "kitas/timer-parses", lambda m: kitas_rules.empty_timer()),
    (
        re.compile(r"^the timer's \w+ (.+) is read as a Python expression"),
        "kitas/timer-parses",
        lambda m: kitas_rules.unquoted_timer(m.group(1)),
    ),
    (
        re.compile(r"^the timer repeats \((.*)\), which only a non-interrupting boundary timer can do"),
        "kitas/timer-parses",
        lambda m: kitas_rules.repeating_timer(m.group(1)),
    ),
    (
        re.compile(r"^Process (\S+) is not executable"),
        "engine",
        lambda m: Message(
            'The process %(process)s is called but marked not executable (isExecutable="false"). Remove that '
            "mark, or call another process.",
            process=m.group(1),
        ),
    ),
    (re.compile(r"^the (user )?task is in no lane"), "kitas/lane-role", lambda m: kitas_rules.no_lane()),
    (
        re.compile(r"^the lane '(.*)' maps to no known role \(known lanes: (.*)\)$"),
        "kitas/lane-role",
        lambda m: kitas_rules.unknown_lane(m.group(1), m.group(2)),
    ),
    (
        re.compile(rf"^the user task has no {kitas_rules.FORM_SCHEMA} property"),
        "kitas/form-exists",
        lambda m: kitas_rules.no_form(),
    ),
    (
        re.compile(r"^the form file (.+) does not exist$"),
        "kitas/form-exists",
        lambda m: kitas_rules.missing_form(m.group(1)),
    ),
    (
        re.compile(r"^the call activity names no calledElement"),
        "kitas/call-resolves",
        lambda m: kitas_rules.no_called_element(),
    ),
    (
        re.compile(r"^the call activity calls (\S+), which (no diagram of the bundle defines|is not deployed)"),
        "kitas/call-resolves",
        lambda m: kitas_rules.unresolved_call(m.group(1)),
    ),
    (
        re.compile(r"^expected exactly one executable process, found (\d+)$"),
        "engine",
        lambda m: Message(
            'The engine runs exactly one process marked executable (isExecutable="true"); this file has '
            "%(count)s. Mark the process to run as executable, and only that one.",
            count=m.group(1),
        ),
    ),
    (
        re.compile(r"^the XML does not parse: (.*)$"),
        "engine",
        lambda m: Message(
            "The file is not well-formed XML: %(error)s. Save it again from the modeler.", error=m.group(1)
        ),
    ),
    (
        re.compile(r"^the id is used (.*); ids must be unique"),
        "engine",
        lambda m: Message("This id is used %(where)s. Give each element an id of its own.", where=m.group(1)),
    ),
]


_UNUSABLE_FORM = re.compile(r"^form '(.+?)' cannot be used: (.*)$")


def translate(element: str, raw: str, source: str, files: Mapping[str, str]) -> Problem:
    """An engine (``source`` "engine") or deployment ("deploy") refusal as a lint problem, always an error."""
    raw = raw.strip().rstrip(".")
    for pattern, rule, words in _KNOWN:
        match = pattern.search(raw)
        if match:
            return Problem(element, ERROR, rule, words(match))
    unusable = _UNUSABLE_FORM.match(raw)
    form, _, detail = raw.partition(": ")
    if unusable:
        form, detail = unusable.group(1), unusable.group(2)
    if detail and (form in files or form.endswith(".json")) and not element.endswith(".json"):
        return Problem(
            element,
            ERROR,
            "kitas/form-fields",
            Message(
                "The form %(form)s of this task has a problem: %(detail)s. Correct the form in the form editor.",
                form=form,
                detail=detail,
            ),
        )
    if element.endswith(".id.json"):
        return Problem(
            element,
            ERROR,
            "kitas/labels-translated",
            Message("The texts file cannot be used: %(detail)s. Correct it, or remove the texts it names.", detail=raw),
        )
    if source == "engine":
        message = Message(
            "The engine cannot run this as it is: %(detail)s. Change the element as this says, then lint again.",
            detail=raw,
        )
    else:
        message = Message("Deployment would refuse this: %(detail)s. Correct it, then lint again.", detail=raw)
    return Problem(element, ERROR, source, message)
