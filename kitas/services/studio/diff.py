"""What changed between two versions of a process model (two deployed versions, or a proposal or a
draft and a version): diagram elements added, removed and changed (by id, with their names), form
fields, texts, fee rules (decision table rows, matched by their input cells) and other files.

Everything is read from the files themselves (lxml and ``engine.decisions.read_decision``): a diagram
that does not execute yet still compares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine import DiagramError
from engine.decisions import decision_ids, read_decision

from ..deployments import CALLED

Content = tuple[str, dict[str, Any]]  # (BPMN XML, files)

# The elements of a diagram people see as shapes or lines.
_KINDS = {
    "task",
    "subProcess",
    "adHocSubProcess",
    "transaction",
    "callActivity",
    "sequenceFlow",
    "messageFlow",
    "lane",
    "participant",
    "dataObjectReference",
    "dataStoreReference",
    "textAnnotation",
    "association",
}
_SUFFIXES = ("Task", "Event", "Gateway")
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


@dataclass(frozen=True)
class Change:
    """One aspect of an element, a field or a row that changed: ``what`` (a key the page names), before, after."""

    what: str
    before: str
    after: str


@dataclass(frozen=True)
class ElementDiff:
    """A diagram element that was added, removed or changed."""

    id: str
    name: str
    kind: str
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class FieldDiff:
    """A form field (``form`` the schema file, ``field`` its path) that was added, removed or changed."""

    form: str
    field: str
    status: str  # added | removed | changed
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class TextDiff:
    """One translated text (``file`` a translations file, ``pointer`` its key) that changed."""

    file: str
    pointer: str
    before: str
    after: str


@dataclass(frozen=True)
class FeeDiff:
    """A decision table row, matched by its input cells, that was added, removed or changed."""

    file: str
    decision: str
    when: str  # "KITAS type = "worker", Length of stay (months) = 6"
    status: str
    before: str
    after: str


@dataclass(frozen=True)
class Diff:
    """Everything that differs from an old content to a new one."""

    added: tuple[ElementDiff, ...] = ()
    removed: tuple[ElementDiff, ...] = ()
    changed: tuple[ElementDiff, ...] = ()
    fields: tuple[FieldDiff, ...] = ()
    texts: tuple[TextDiff, ...] = ()
    fees: tuple[FeeDiff, ...] = ()
    files_added: tuple[str, ...] = ()
    files_removed: tuple[str, ...] = ()
    files_changed: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # a file that could not be read (named, not fatal)

    @property
    def empty(self) -> bool:
        """True when the two contents are the same in everything compared."""
        return not any(
            (
                self.added,
                self.removed,
                self.changed,
                self.fields,
                self.texts,
                self.fees,
                self.files_added,
                self.files_removed,
                self.files_changed,
            )
        )

    def markers(self) -> dict[str, list[str]]:
        """Element ids by change, for colouring the diagrams."""
        return {
            "added": [e.id for e in self.added],
            "removed": [e.id for e in self.removed],
            "changed": [e.id for e in self.changed],
        }


def compare(old: Content | None, new: Content) -> Diff:
    """The difference from ``old`` (None: nothing deployed yet) to ``new``."""
    old_bpmn, old_files = old if old is not None else ("", {})
    new_bpmn, new_files = new
    problems: list[str] = []
    before, after = _elements(old_bpmn, problems), _elements(new_bpmn, problems)
    added = tuple(_summary(after[i]) for i in after if i not in before)
    removed = tuple(_summary(before[i]) for i in before if i not in after)
    changed = []
    for element_id, element in after.items():
        if element_id in before:
            changes = _changes(before[element_id], element)
            if changes:
                changed.append(ElementDiff(element_id, element["name"], element["kind"], tuple(changes)))
    old_own, new_own = _own(old_files), _own(new_files)
    fields = _form_fields(old_own, new_own, problems)
    texts = _texts(old_own, new_own, problems)
    fees = _fees(old_own, new_own, problems)
    compared = {n for n in {*old_own, *new_own} if _is_form(n, old_own, new_own) or _is_texts(n) or n.endswith(".dmn")}
    # A draft or a proposal has no copies of the shared steps (deployment bundles them): compare those
    # copies only between two versions, where they say which version of a shared step each one calls.
    bundled = any(n.startswith(CALLED) for n in old_files) and any(n.startswith(CALLED) for n in new_files)
    rest_old = {n: t for n, t in old_files.items() if n not in compared and (bundled or not n.startswith(CALLED))}
    rest_new = {n: t for n, t in new_files.items() if n not in compared and (bundled or not n.startswith(CALLED))}
    return Diff(
        added=added,
        removed=removed,
        changed=tuple(changed),
        fields=fields,
        texts=texts,
        fees=fees,
        files_added=tuple(sorted(set(rest_new) - set(rest_old))),
        files_removed=tuple(sorted(set(rest_old) - set(rest_new))),
        files_changed=tuple(sorted(n for n in rest_new if n in rest_old and rest_old[n] != rest_new[n])),
        problems=tuple(problems),
    )


def _own(files: dict[str, Any]) -> dict[str, str]:
    """A version's own files (the copies of the shared steps it calls compare as plain files)."""
    return {name: str(text) for name, text in files.items() if not name.startswith(CALLED)}


def _summary(element: dict[str, Any]) -> ElementDiff:
    return ElementDiff(element["id"], element["name"], element["kind"])


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(node: Any) -> str:
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _elements(bpmn: str, problems: list[str]) -> dict[str, dict[str, Any]]:
    """Element id -> what is compared of it: name, kind, attributes, extension properties and texts,
    script, condition, event definitions (timers, messages), incoming and outgoing flows, lane members."""
    if not bpmn:
        return {}
    try:
        root = etree.fromstring(bpmn.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        problems.append(f"diagram: {exc.msg}")
        return {}
    found: dict[str, dict[str, Any]] = {}
    for node in root.iter():
        kind = _local(node.tag)
        element_id = node.get("id")
        if not element_id or not (kind in _KINDS or kind.endswith(_SUFFIXES)):
            continue
        if "DI" in (etree.QName(node).namespace or ""):  # the drawing's shapes and edges, not the model
            continue
        found[element_id] = _describe(node, kind, element_id)
    return found


def _describe(node: Any, kind: str, element_id: str) -> dict[str, Any]:
    attributes = {_local(k): v for k, v in node.attrib.items() if _local(k) not in {"id", "name"}}
    properties: dict[str, str] = {}
    extensions: dict[str, str] = {}
    events: list[str] = []
    children = {"incoming": [], "outgoing": [], "flowNodeRef": []}  # type: dict[str, list[str]]
    script = condition = documentation = ""
    for child in node:
        name = _local(child.tag)
        if name in children:
            children[name].append((child.text or "").strip())
        elif name == "extensionElements":
            for ext in child:
                if _local(ext.tag) == "properties":
                    properties.update({p.get("name", ""): p.get("value", "") for p in ext})
                else:
                    extensions[_local(ext.tag)] = _text(ext)
        elif name == "script":
            script = (child.text or "").strip()
        elif name == "conditionExpression":
            condition = (child.text or "").strip()
        elif name == "documentation":
            documentation = _text(child)
        elif name.endswith("EventDefinition"):
            attrs = ", ".join(f"{_local(k)}={v}" for k, v in sorted(child.attrib.items()) if _local(k) != "id")
            inner = "; ".join(f"{_local(c.tag)}: {_text(c)}" for c in child if _local(c.tag) != "extensionElements")
            events.append(" ".join(part for part in (name, attrs, inner) if part))
    return {
        "id": element_id,
        "kind": kind,
        "name": node.get("name") or "",
        "attributes": attributes,
        "properties": properties,
        "extensions": extensions,
        "script": script,
        "condition": condition,
        "documentation": documentation,
        "events": events,
        "incoming": sorted(children["incoming"]),
        "outgoing": sorted(children["outgoing"]),
        "members": sorted(children["flowNodeRef"]),
    }


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    for key in ("name", "kind", "script", "condition", "documentation", "events", "incoming", "outgoing", "members"):
        if before[key] != after[key]:
            changes.append(Change(key, _show(before[key]), _show(after[key])))
    for group in ("attributes", "properties", "extensions"):
        old, new = before[group], after[group]
        for key in sorted({*old, *new}):
            if old.get(key) != new.get(key):
                changes.append(Change(f"{group}:{key}", old.get(key, ""), new.get(key, "")))
    return changes


def _is_texts(name: str) -> bool:
    stem = name.removesuffix(".json")
    return name.endswith(".json") and "." in stem and len(stem.rsplit(".", 1)[1]) == 2


def _is_form(name: str, *file_sets: dict[str, str]) -> bool:
    if not name.endswith(".json") or _is_texts(name):
        return False
    for files in file_sets:
        if name in files:
            try:
                document = json.loads(files[name])
            except ValueError:
                return False
            if isinstance(document, dict) and isinstance(document.get("properties"), dict):
                return True
    return False


def _fields(schema: Any, prefix: str = "") -> dict[str, dict[str, str]]:
    """Field path -> its compared aspects, nested objects walked (``address/city``)."""
    found: dict[str, dict[str, str]] = {}
    if not isinstance(schema, dict):
        return found
    required = set(schema.get("required") or [])
    for name, spec in (schema.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        path = f"{prefix}{name}"
        choices = spec.get("enum") or [c.get("const") for c in spec.get("oneOf") or [] if isinstance(c, dict)]
        titles = [c.get("title") for c in spec.get("oneOf") or [] if isinstance(c, dict) and c.get("title")]
        rest = {k: v for k, v in spec.items() if k not in {"type", "title", "enum", "oneOf", "properties", "required"}}
        found[path] = {
            "type": _show(spec.get("type", "")),
            "title": str(spec.get("title", "")),
            "required": "yes" if name in required else "no",
            "enum": _show(choices) if choices else "",
            "choice_titles": _show(titles) if titles else "",
            "rules": _show(rest) if rest else "",
        }
        if spec.get("type") == "object":
            found.update(_fields(spec, f"{path}/"))
    return found


def _form_fields(old: dict[str, str], new: dict[str, str], problems: list[str]) -> tuple[FieldDiff, ...]:
    result: list[FieldDiff] = []
    for name in sorted({n for n in {*old, *new} if _is_form(n, old, new)}):
        before, after = _load_fields(old.get(name), name, problems), _load_fields(new.get(name), name, problems)
        for path in after:
            if path not in before:
                result.append(FieldDiff(name, path, "added"))
        for path in before:
            if path not in after:
                result.append(FieldDiff(name, path, "removed"))
        for path, aspects in after.items():
            if path in before and before[path] != aspects:
                changes = tuple(
                    Change(key, before[path][key], value)
                    for key, value in aspects.items()
                    if before[path][key] != value
                )
                result.append(FieldDiff(name, path, "changed", changes))
    return tuple(result)


def _load_fields(text: str | None, name: str, problems: list[str]) -> dict[str, dict[str, str]]:
    if text is None:
        return {}
    try:
        return _fields(json.loads(text))
    except ValueError as exc:
        problems.append(f"{name}: {exc}")
        return {}


def _texts(old: dict[str, str], new: dict[str, str], problems: list[str]) -> tuple[TextDiff, ...]:
    result: list[TextDiff] = []
    for name in sorted(n for n in {*old, *new} if _is_texts(n)):
        before, after = _load_texts(old.get(name), name, problems), _load_texts(new.get(name), name, problems)
        for pointer in sorted({*before, *after}):
            if before.get(pointer) != after.get(pointer):
                result.append(TextDiff(name, pointer, before.get(pointer, ""), after.get(pointer, "")))
    return tuple(result)


def _load_texts(text: str | None, name: str, problems: list[str]) -> dict[str, str]:
    if text is None:
        return {}
    try:
        document = json.loads(text)
    except ValueError as exc:
        problems.append(f"{name}: {exc}")
        return {}
    return {str(k): _show(v) for k, v in document.items()} if isinstance(document, dict) else {}


def _fees(old: dict[str, str], new: dict[str, str], problems: list[str]) -> tuple[FeeDiff, ...]:
    result: list[FeeDiff] = []
    for name in sorted(n for n in {*old, *new} if n.endswith(".dmn")):
        before_text, after_text = old.get(name, ""), new.get(name, "")
        if before_text == after_text:
            continue
        for decision in sorted({*decision_ids(before_text), *decision_ids(after_text)}):
            before = _rows(before_text, decision, name, problems)
            after = _rows(after_text, decision, name, problems)
            for key in [*after, *(k for k in before if k not in after)]:
                old_out, new_out = before.get(key), after.get(key)
                if old_out == new_out:
                    continue
                status = "added" if old_out is None else "removed" if new_out is None else "changed"
                when = (new_out or old_out or ("", ""))[1]
                result.append(FeeDiff(name, decision, when, status, (old_out or ("", ""))[0], (new_out or ("", ""))[0]))
    return tuple(result)


def _rows(text: str, decision: str, name: str, problems: list[str]) -> dict[tuple[str, ...], tuple[str, str]]:
    """Input cells -> (the outputs, the conditions in words) of each row of a decision."""
    if not text or decision not in decision_ids(text):
        return {}
    try:
        table = read_decision(text, decision)
    except DiagramError as exc:
        problems.append(f"{name}: {'; '.join(problem for _element, problem in exc.problems)}")
        return {}
    rows: dict[tuple[str, ...], tuple[str, str]] = {}
    for row in table.rows:
        when = ", ".join(
            f"{column.label} = {cell}" for column, cell in zip(table.inputs, row.inputs, strict=False) if cell
        )
        rows[row.inputs] = (", ".join(row.outputs), when or "—")
    return rows
