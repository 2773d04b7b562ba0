"""The studio's decision tables: a draft's ``.dmn`` file saved from the editor, and tried with inputs.

The test panel computes with ``engine.decisions.decide``, the very evaluation a case's business rule
task runs (and ``services.fees`` shows), on the draft's table: the amount it says is the amount a case
on that table would be charged. The table's inputs (their variable names and types) come from the
table itself, so a column the analyst adds is asked for too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine import DiagramError, ScriptError
from engine.decisions import DecisionTable, decide, decision_ids, read_decision
from forms.texts import Message
from workflows import catalog

from ...models import StudioDraft, User
from ..errors import InvalidInput, NotFound
from ..fees import FEE_DECISION
from . import drafts
from .shared_files import shared_step_of

DMN_NAMESPACES = frozenset(
    {
        "https://www.omg.org/spec/DMN/20191111/MODEL/",
        "https://www.omg.org/spec/DMN/20230324/MODEL/",
        "http://www.omg.org/spec/DMN/20180521/MODEL/",
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    }
)
MAX_DMN_CHARS = 1024 * 1024
ENTER_VALUE = Message("Enter a value.")


@dataclass(frozen=True)
class TestInput:
    """One input of the test panel: the variable the table reads, its label and type, and known values."""

    name: str
    label: str
    type: str  # the column's typeRef: string, integer, number, boolean
    suggestions: tuple[str, ...] = ()


@dataclass
class FeeTest:
    """What the test panel shows: the inputs as typed, the outputs computed, or why there are none."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    problem: str | None = None
    unsaved: bool = False
    is_fee: bool = False
    rows: list[int] = field(default_factory=list)  # the numbers of the rows that match the inputs
    overlap: str | None = None  # several rows match where the hit policy allows one


@dataclass
class DecisionEditor:
    """Everything the decision table page shows."""

    draft: StudioDraft
    name: str
    xml: str
    revision: int
    decision_id: str | None
    table: DecisionTable | None
    inputs: list[TestInput]
    problem: str | None = None  # why the table cannot be read or evaluated
    errors: dict[str, list[str]] = field(default_factory=dict)
    shared_step: str | None = None  # the shared step the table belongs to (its copy here must not differ)

    @property
    def editable(self) -> bool:
        """Only an open draft takes changes."""
        return self.draft.status == "open"


class DecisionRefused(InvalidInput):
    """The table was not saved; ``editor`` holds the XML as sent and why."""

    def __init__(self, editor: DecisionEditor):
        super().__init__(editor.errors)
        self.editor = editor


def open_decision(draft_id: int, name: str, xml: str | None = None) -> DecisionEditor:
    """The editor of a decision table of a draft (with ``xml``: that text instead of the saved one)."""
    draft = _draft_and_name(draft_id, name)
    return _editor(draft, name, draft.files[name] if xml is None else xml, draft.revision)


def save_decision(draft_id: int, name: str, revision: int, user: User, xml: str) -> DecisionEditor:
    """Save the table's XML to the draft; DecisionRefused (XML kept) when it is no DMN, Conflict when stale."""
    draft = _draft_and_name(draft_id, name)
    problem = _xml_problem(xml)
    if problem is not None:
        editor = _editor(draft, name, xml, revision)
        editor.errors["xml"] = [problem]
        raise DecisionRefused(editor)
    saved = drafts.save_draft(draft_id, revision, user, files={name: xml})
    return _editor(saved, name, xml, saved.revision)


def try_decision(
    draft_id: int, name: str, raw: dict[str, str], xml: str | None = None
) -> tuple[DecisionEditor, FeeTest]:
    """Compute the table's outputs for the typed inputs, as a case computes them; the table is the draft's
    saved one, or ``xml`` (the editor's, saved or not)."""
    editor = open_decision(draft_id, name, xml or None)
    test = FeeTest(values={i.name: (raw.get(i.name) or "").strip() for i in editor.inputs})
    test.unsaved = bool(xml) and xml != editor.draft.files.get(name)
    test.is_fee = editor.decision_id == FEE_DECISION
    if editor.problem is not None or editor.decision_id is None:
        test.problem = editor.problem or Message("The file defines no decision.")
        return editor, test
    inputs: dict[str, Any] = {}
    for item in editor.inputs:
        value, error = _coerced(test.values[item.name], item.type)
        if error is not None:
            test.errors[item.name] = [error]
        else:
            inputs[item.name] = value
    if test.errors:
        return editor, test
    try:
        outputs = decide(editor.xml, editor.decision_id, inputs)
    except ScriptError as exc:
        test.problem = Message("A cell of the table cannot be evaluated: %(problem)s", problem=str(exc))
        return editor, test
    except DiagramError as exc:
        test.problem = Message("The table cannot be read: %(problem)s", problem=_problems(exc))
        return editor, test
    if not outputs:
        test.problem = Message("No row of the table matches these inputs.")
        return editor, test
    test.outputs = outputs
    test.rows = _matching_rows(editor.xml, editor.decision_id, inputs)
    policy = editor.table.hit_policy.upper() if editor.table is not None else ""
    if len(test.rows) > 1 and policy in ("UNIQUE", "U"):
        test.overlap = Message(
            "Rows %(rows)s all match these inputs, but the hit policy UNIQUE allows one: a case takes the first. "
            "Make the rows exclusive.",
            rows=", ".join(map(str, test.rows)),
        )
    return editor, test


def _matching_rows(xml: str, decision_id: str, inputs: dict[str, Any]) -> list[int]:
    """The numbers of the rows that match, each found by the engine on a copy of the table with that row alone."""
    source = xml.encode("utf-8")
    count = len(_rules(etree.fromstring(source), decision_id))
    found = []
    for number in range(1, count + 1):
        root = etree.fromstring(source)
        for index, rule in enumerate(_rules(root, decision_id), start=1):
            parent = rule.getparent()
            if index != number and parent is not None:
                parent.remove(rule)
        try:
            if decide(etree.tostring(root), decision_id, inputs):
                found.append(number)
        except (ScriptError, DiagramError):
            continue
    return found


def _rules(root: Any, decision_id: str) -> list[Any]:
    decision = next((n for n in root.iter() if isinstance(n.tag, str) and n.get("id") == decision_id), None)
    if decision is None:
        return []
    return [n for n in decision.iter() if isinstance(n.tag, str) and etree.QName(n).localname == "rule"]


def _draft_and_name(draft_id: int, name: str) -> StudioDraft:
    draft = drafts.get_draft(draft_id)
    if not drafts.valid_file_name(name) or not name.endswith(".dmn") or name not in draft.files:
        raise NotFound(Message("there is no decision table %(name)s", name=name))
    return draft


def _editor(draft: StudioDraft, name: str, xml: str, revision: int) -> DecisionEditor:
    ids = decision_ids(xml)
    decision_id = FEE_DECISION if FEE_DECISION in ids else (ids[0] if ids else None)
    table: DecisionTable | None = None
    problem: str | None = _xml_problem(xml)
    if problem is None and decision_id is None:
        problem = Message("The file defines no decision.")
    if problem is None and decision_id is not None:
        try:
            table = read_decision(xml, decision_id)
        except DiagramError as exc:
            problem = Message("The table cannot be read: %(problem)s", problem=_problems(exc))
    inputs = _inputs(xml, table) if table is not None else []
    editor = DecisionEditor(draft, name, xml, revision, decision_id, table, inputs, problem)
    editor.shared_step = shared_step_of(draft, name)
    return editor


def _inputs(xml: str, table: DecisionTable) -> list[TestInput]:
    types = _type_refs(xml)
    known = _known_values()
    return [
        TestInput(
            name=column.expression.strip(),
            label=column.label,
            type=types.get(column.id, "string"),
            suggestions=known.get(column.expression.strip(), ()),
        )
        for column in table.inputs
        if column.expression.strip()
    ]


def _type_refs(xml: str) -> dict[str, str]:
    """Input column id -> the typeRef of its input expression."""
    root = etree.fromstring(xml.encode("utf-8"))
    found: dict[str, str] = {}
    for node in root.iter():
        if isinstance(node.tag, str) and etree.QName(node).localname == "input":
            for child in node:
                if isinstance(child.tag, str) and etree.QName(child).localname == "inputExpression":
                    found[str(node.get("id"))] = (child.get("typeRef") or "string").lower()
    return found


def _known_values() -> dict[str, tuple[str, ...]]:
    """The values the catalog knows for the fee table's usual inputs (offered in the test panel)."""
    types = catalog().types
    return {
        "kitas_type": tuple(t.code for t in types),
        "index_code": tuple(sorted({e.code for t in types for e in t.index_codes} | {t.index_code for t in types})),
        "duration_months": tuple(str(m) for m in sorted({m for t in types for m in t.durations_months})),
    }


def _coerced(text: str, kind: str) -> tuple[Any, str | None]:
    if not text:
        return None, ENTER_VALUE
    if kind in ("integer", "long", "int"):
        try:
            return int(text), None
        except ValueError:
            return None, Message("Enter a whole number.")
    if kind in ("number", "double", "decimal"):
        try:
            number = float(text)
        except ValueError:
            return None, Message("Enter a number.")
        return (int(number) if number.is_integer() else number), None
    if kind == "boolean":
        if text.lower() in ("true", "yes", "1"):
            return True, None
        if text.lower() in ("false", "no", "0"):
            return False, None
        return None, Message("Choose yes or no.")
    return text, None


def _xml_problem(xml: str) -> str | None:
    if not xml.strip():
        return Message("The table is empty.")
    if len(xml) > MAX_DMN_CHARS:
        return Message("The table is larger than 1 MB; a decision table is far smaller.")
    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        return Message("The table is not XML (line %(line)s): %(error)s", line=exc.lineno, error=exc.msg)
    qname = etree.QName(root)
    if qname.localname != "definitions" or qname.namespace not in DMN_NAMESPACES:
        return Message("The file is XML but not a DMN decision table: its root is not dmn:definitions.")
    return None


def _problems(exc: DiagramError) -> str:
    return "; ".join(str(why) for _element, why in exc.problems) or str(exc)
