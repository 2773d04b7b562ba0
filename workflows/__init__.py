"""The KITAS catalog: each permit type's codes, names, process, documents and lane roles.

The catalog is data (``kitas_types.json``): index codes, documents and SLAs
change with regulations, so adding a type is a data change plus a diagram. Its texts in another
language are kept beside it by JSON pointer (``kitas_types.id.json``, see :mod:`forms.texts`);
``catalog("id")`` is the catalog with those texts in place (codes and rules unchanged).

Further types come from further catalog files (``use_extra_catalogs``: the application passes the
``kitas_types.json`` of every folder of ``KITAS_EXTRA_TYPES``): their types follow the shipped ones,
their statuses, reminders and words are added, each file's translations beside it. A type code or
another key the catalog already has is refused, so an extra file adds and never replaces.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from forms.texts import LANGUAGES, SOURCE_LANGUAGE, localize, parse_texts

CATALOG_FILE = Path(__file__).with_name("kitas_types.json")
# The catalog sections an extra catalog file may add keys to (a key already there is refused).
MERGED_SECTIONS = (
    "lane_roles",
    "statuses",
    "status_reasons",
    "status_details",
    "messages",
    "reminders",
    "sponsor_limits",
)
_extra_files: tuple[Path, ...] = ()


def texts_file(language: str, path: Path = CATALOG_FILE) -> Path:
    """A catalog file's translations into ``language``: ``kitas_types.id.json``."""
    return path.with_name(f"{path.stem}.{language}.json")


def use_extra_catalogs(paths: Iterable[str | Path]) -> None:
    """Merge the types (and statuses, reminders...) of these catalog files after the shipped catalog's, from
    the next ``catalog()`` on (the application calls this with the files of ``KITAS_EXTRA_TYPES``)."""
    global _extra_files
    files = tuple(Path(path) for path in paths)
    if files != _extra_files:
        _extra_files = files
        _catalog.cache_clear()


def extra_catalogs() -> tuple[Path, ...]:
    """The extra catalog files in use."""
    return _extra_files


@dataclass(frozen=True)
class RequiredDocument:
    """One document a permit type asks for."""

    key: str
    name_en: str
    name_id: str

    @property
    def name(self) -> str:
        """The document's name in the catalog's language (``name_en`` holds it in a translated catalog)."""
        return self.name_en


@dataclass(frozen=True)
class IndexCode:
    """One visa index code of a type (``E31A``) and what it covers."""

    code: str
    name_en: str

    @property
    def name(self) -> str:
        """What the code covers, in the catalog's language."""
        return self.name_en


@dataclass(frozen=True)
class GroupRules:
    """How a type's cases start for several people at once (a group application): the fields of the
    type's steps (element id -> field names) the sponsor gives once for everyone, and those asked per
    person. The fields' titles, rules and translations are those of the deployed forms."""

    sponsor_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    member_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # How a field reads on the group form when the step's words speak to someone else (the family member
    # step says "your family member" to the spouse; on the group form the sponsor is that member): the
    # field's ``title``, ``description`` and ``ui:*`` keys replacing the step's (texts translated beside).
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class KitasType:
    """One KITAS type of the catalog."""

    code: str
    index_code: str
    name_en: str
    name_id: str
    process_id: str | None
    diagram: str | None
    sponsor: str
    documents: tuple[RequiredDocument, ...] = ()
    sla_days: dict[str, int] = field(default_factory=dict)
    former_index_code: str | None = None
    # The main path of a case's statuses, drawn as steps on the status page.
    journey: tuple[str, ...] = ()
    # The numbers the forms' rules name as ``catalog:NAME`` (``passport_months_beyond_stay``: 6).
    rule_values: dict[str, Any] = field(default_factory=dict)
    # "Check your answers": the applicant steps after which the applicant sees every answer and document
    # before the case leaves her, each with the steps she may still change there.
    check_answers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Who the type is for, in a sentence of the information page.
    for_whom: str = ""
    # Every index code the type covers (the family type has one per relation), each with its words.
    index_codes: tuple[IndexCode, ...] = ()
    # The lengths of stay (months) that can be applied for; the fee table has a row for each.
    durations_months: tuple[int, ...] = ()
    # The usual working days from payment to decision, as the information page says it.
    typical_days: int | None = None
    # Who may sponsor (``company``, ``institution``, ``person``); empty when no sponsor is needed.
    sponsor_kinds: tuple[str, ...] = ()
    # Group applications of this type, when a sponsor may start several at once.
    group: GroupRules | None = None
    # What a sponsor's form answer says when they confirm the guarantee (else the catalog's default).
    sponsor_confirms: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The type's name in the catalog's language (``name_en`` holds it in a translated catalog);
        ``name_id`` is the official Indonesian name in every language."""
        return self.name_en

    def named_values(self) -> dict[str, Any]:
        """What a form rule may name as ``catalog:NAME``: the type's ``rule_values`` and its own lists
        (``durations_months``, ``index_codes``, ``sponsor_kinds``), so a form never repeats them."""
        return {
            "durations_months": list(self.durations_months),
            "index_codes": [code.code for code in self.index_codes],
            "sponsor_kinds": list(self.sponsor_kinds),
            **self.rule_values,
        }


@dataclass(frozen=True)
class StatusText:
    """How a case status is said to people, and what it asks of the applicant.

    ``applicant_action`` is what the applicant must do while the case waits in this status
    (outside any form: paying, say) and ``action_page`` the page of the service for it;
    ``sms`` says whether the news also goes out by text message; ``tone`` how the status is
    coloured (``success``, ``danger``, else neutral); ``journey_step`` the step of the journey an
    off-journey status belongs to (corrections happen during verification); ``notify_sponsor``
    the message (``subject``, ``body`` with ``{reference}`` and ``{applicant}``) the named sponsor
    gets when a case reaches this status.
    """

    label: str
    explanation: str
    # What the status means in the words of the officers' pages (``explanation`` speaks to the applicant).
    officer_explanation: str = ""
    applicant_action: str | None = None
    action_page: str | None = None
    sms: bool = False
    tone: str = "primary"
    journey_step: str | None = None
    notify_sponsor: dict[str, str] | None = None


@dataclass(frozen=True)
class ReminderRule:
    """A reminder the scheduler sends before a deadline or after a wait (``reminders`` in the catalog).

    Exactly one source: a boundary ``timer`` of the diagram (sent ``hours_before`` its due time), an
    open user ``task`` (sent ``hours_after`` it opened), an open user task of any lane whose ``role`` is
    named (``sponsor``: the sponsor step of every type's diagram, whatever its element id; also
    ``hours_after``), or a ``date_field`` of the case data while the case is in ``status`` (sent
    ``days_before`` that day at ``hour`` in the reader's zone). ``recipient``
    is ``applicant`` or ``sponsor``; ``sms`` also sends a text message (to people who keep that channel
    on). ``subject`` and ``body`` may name ``{reference}``, ``{applicant}``, ``{deadline}`` (the
    timer's time) and ``{date}`` (the date of the case data).
    """

    name: str
    subject: str
    body: str
    recipient: str = "applicant"
    sms: bool = False
    timer: str | None = None
    hours_before: float = 0
    task: str | None = None
    hours_after: float = 0
    role: str | None = None
    status: str | None = None
    date_field: str | None = None
    days_before: int = 0
    hour: int = 0

    def __post_init__(self) -> None:
        sources = [s for s in (self.timer, self.task, self.role, self.date_field) if s]
        if len(sources) != 1 or (self.date_field and not self.status) or self.recipient not in ("applicant", "sponsor"):
            raise ValueError(
                f"reminder {self.name!r} needs one of timer, task, role, status+date_field and a known recipient"
            )

    @property
    def on_task(self) -> bool:
        """The rule speaks of an open user task (its element, or any task of its role)."""
        return bool(self.task or self.role)


@dataclass(frozen=True)
class Catalog:
    """Every KITAS type, the map from diagram lanes to roles, and the words for each status."""

    types: tuple[KitasType, ...]
    lane_roles: dict[str, str]
    statuses: dict[str, StatusText] = field(default_factory=dict)
    # For a negative status, the case-data fields whose text explains it, most specific first.
    status_reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # For a status that sends the applicant somewhere (an appointment), the case-data fields that say where and when.
    status_details: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The status of a new case until the diagram names one.
    initial_status: str = "draft"
    # How the BPMN messages a case receives are told in its history (``payment_received``: "Payment received").
    messages: dict[str, str] = field(default_factory=dict)
    # Payment providers by the name people know them by (``sandbox``: "the sandbox bank (a simulation)").
    payment_providers: dict[str, str] = field(default_factory=dict)
    # The reminders the scheduler sends, by name (``billing_code_expiring``).
    reminders: dict[str, ReminderRule] = field(default_factory=dict)
    # The most active sponsored foreigners one sponsor of a kind may have (``person``: 10).
    sponsor_limits: dict[str, int] = field(default_factory=dict)
    # What the e-permit reads from the case data: ``sponsor_fields`` (the first one a case fills names the
    # sponsor), ``valid_until_caps`` (dates the validity may not pass: the study's end, the passport's expiry).
    permit: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The most people one group application may hold.
    group_max_members: int = 0
    # What a sponsor's answer says when they confirm a guarantee (``sponsor_decision``: ``confirm``).
    sponsor_confirms: dict[str, Any] = field(default_factory=dict)

    def confirms_of(self, kitas_type: str) -> dict[str, Any]:
        """The answer that confirms a guarantee on a case of ``kitas_type`` (its own, else the default)."""
        try:
            own = self.by_code(kitas_type).sponsor_confirms
        except KeyError:
            own = {}
        return dict(own or self.sponsor_confirms)

    def status_text(self, status: str) -> StatusText:
        """The plain words for a status; an unknown one is shown humanized rather than failing."""
        found = self.statuses.get(status)
        if found is not None:
            return found
        return StatusText(status.replace("_", " ").capitalize(), "")

    def status_reason(self, status: str, data: Mapping[str, Any]) -> str | None:
        """The text in the case data that explains a negative status (a rejection's reason...), if any."""
        for key in self.status_reasons.get(status, ()):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    def by_code(self, code: str) -> KitasType:
        """Return the type with this code (``worker``); KeyError if there is none."""
        for kitas_type in self.types:
            if kitas_type.code == code:
                return kitas_type
        raise KeyError(f"no KITAS type with code {code!r}")

    def role_for_lane(self, lane: str) -> str | None:
        """Return the role that works the tasks of a lane."""
        return self.lane_roles.get(lane)

    def lanes_of(self, role: str) -> set[str]:
        """The lanes whose tasks a role works."""
        return {lane for lane, lane_role in self.lane_roles.items() if lane_role == role}


def _parse(raw: dict[str, Any]) -> Catalog:
    types = []
    for item in raw["types"]:
        documents = tuple(RequiredDocument(**doc) for doc in item.get("documents", []))
        fields = {k: v for k, v in item.items() if k in KitasType.__dataclass_fields__ and k != "documents"}
        fields["journey"] = tuple(fields.get("journey", ()))
        fields["index_codes"] = tuple(IndexCode(**code) for code in fields.get("index_codes", ()))
        fields["durations_months"] = tuple(fields.get("durations_months", ()))
        fields["sponsor_kinds"] = tuple(fields.get("sponsor_kinds", ()))
        fields["check_answers"] = {step: tuple(steps) for step, steps in fields.get("check_answers", {}).items()}
        if fields.get("group") is not None:
            rules = dict(fields["group"])
            relabelled = {name: dict(texts) for name, texts in rules.pop("fields", {}).items()}
            fields["group"] = GroupRules(
                **{part: {k: tuple(v) for k, v in steps.items()} for part, steps in rules.items()},
                fields=relabelled,
            )
        types.append(KitasType(documents=documents, **fields))
    statuses = {code: StatusText(**text) for code, text in raw.get("statuses", {}).items()}
    reasons = {status: tuple(keys) for status, keys in raw.get("status_reasons", {}).items()}
    details = {status: tuple(keys) for status, keys in raw.get("status_details", {}).items()}
    return Catalog(
        types=tuple(types),
        lane_roles=dict(raw["lane_roles"]),
        statuses=statuses,
        status_reasons=reasons,
        status_details=details,
        initial_status=str(raw.get("initial_status", "draft")),
        messages=dict(raw.get("messages", {})),
        payment_providers=dict(raw.get("payment_providers", {})),
        reminders={name: ReminderRule(name=name, **rule) for name, rule in raw.get("reminders", {}).items()},
        sponsor_limits={kind: int(limit) for kind, limit in raw.get("sponsor_limits", {}).items()},
        permit={key: tuple(names) for key, names in raw.get("permit", {}).items()},
        group_max_members=int(raw.get("group_max_members", 0)),
        sponsor_confirms=dict(raw.get("sponsor_confirms", {})),
    )


def catalog(language: str | None = None) -> Catalog:
    """The catalog, loaded once per process and language: its texts in ``language`` where its
    translations file has them, else (no language, English, a text not translated) in English."""
    return _catalog(language if language in LANGUAGES and language != SOURCE_LANGUAGE else None)


@lru_cache(maxsize=len(LANGUAGES))
def _catalog(language: str | None) -> Catalog:
    raw = _read(CATALOG_FILE, language)
    for path in _extra_files:
        _merge(raw, _read(path, language), path.name)
    return _parse(raw)


def _read(path: Path, language: str | None) -> dict[str, Any]:
    """One catalog file, its texts in ``language`` where the file beside it has them."""
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if language is not None:
        texts = texts_file(language, path)
        if texts.is_file():
            raw = localize(raw, parse_texts(texts.read_text(encoding="utf-8"), texts.name))
    return raw


def _merge(raw: dict[str, Any], extra: dict[str, Any], name: str) -> None:
    """Add an extra catalog file's types and keys to ``raw``; refuse one that would replace anything."""
    unknown = sorted(set(extra) - {"types", *MERGED_SECTIONS})
    if unknown:
        raise ValueError(
            f"{name}: an extra catalog file may only add types and {', '.join(MERGED_SECTIONS)}; not {unknown}"
        )
    codes = {item["code"] for item in raw["types"]}
    for item in extra.get("types", []):
        if item["code"] in codes:
            raise ValueError(f"{name}: the catalog already has a type {item['code']!r}")
        codes.add(item["code"])
        raw["types"].append(item)
    for section in MERGED_SECTIONS:
        taken = raw.setdefault(section, {})
        for key, value in extra.get(section, {}).items():
            if key in taken and taken[key] != value:
                raise ValueError(f"{name}: {section}/{key} is in the catalog already")
            taken[key] = value
