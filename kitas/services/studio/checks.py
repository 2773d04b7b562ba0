"""The checks the modeler's properties panel asks as the analyst types, and the context it picks from.

Code (a script task's script, a flow's condition) is compiled under the same sandbox deployment uses,
so a problem shows while typing rather than at deployment. A timer's ISO 8601 value (SpiffWorkflow's
dialect: durations ``P5D``, dates with their offset ``2027-03-01T09:00:00+07:00``, cycles ``R3/PT1H``)
is checked and told in plain words ("5 days after the task starts"). The context is what the panel
offers to pick: the lanes and their roles, the deployed shared steps, the draft's form files and the
decisions of its decision tables. Nothing here writes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from engine.decisions import decision_ids
from engine.errors import ScriptError
from engine.sandbox import compile_script
from forms.texts import Message, listed
from workflows import catalog

from ...extensions import db
from ...models import ProcessDefinition
from ..deployments import latest_definition
from ..errors import InvalidInput
from .drafts import get_draft

CODE_KINDS = {"script": "exec", "condition": "eval"}
TIMER_KINDS = ("duration", "date", "cycle")
# The translation files beside a file carry a language before .json (``x.schema.id.json``).
_TEXTS = re.compile(r"\.(id|en)\.json$")
_LINE = re.compile(r"^Line (\d+): (.*)$", re.DOTALL)
# SpiffWorkflow's own parse_iso_duration: numbers with designators; a fraction only in the last one.
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
)
_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
# (one, many, alone after "every": "every hour")
_UNIT_WORDS = {
    "years": (Message("%(n)s year"), Message("%(n)s years"), Message("year")),
    "months": (Message("%(n)s month"), Message("%(n)s months"), Message("month")),
    "weeks": (Message("%(n)s week"), Message("%(n)s weeks"), Message("week")),
    "days": (Message("%(n)s day"), Message("%(n)s days"), Message("day")),
    "hours": (Message("%(n)s hour"), Message("%(n)s hours"), Message("hour")),
    "minutes": (Message("%(n)s minute"), Message("%(n)s minutes"), Message("minute")),
    "seconds": (Message("%(n)s second"), Message("%(n)s seconds"), Message("second")),
}
_ZONES = {timedelta(hours=7): "WIB", timedelta(hours=8): "WITA", timedelta(hours=9): "WIT"}
_WIB = timedelta(hours=7)

BAD_DURATION = Message(
    "“%(text)s” is not an ISO 8601 duration. Write P, then numbers with Y (years), M (months), W (weeks) or "
    "D (days), and after a T numbers with H (hours), M (minutes) or S (seconds): P5D is 5 days, PT4H 4 hours."
)
BAD_DATE = Message(
    "“%(text)s” is not an ISO 8601 date and time. Write it like 2027-03-01T09:00:00+07:00 (09:00 WIB on 1 March 2027)."
)
NO_OFFSET = Message(
    "The date has no time-zone offset, so it would be read in the server's zone. Add one: +07:00 (WIB), "
    "+08:00 (WITA) or +09:00 (WIT)."
)
BAD_CYCLE = Message(
    "“%(text)s” is not a cycle. Write R, how many times, a slash and the interval: R3/PT1H is 3 times, every "
    "hour; R/P1D every day without end; R3/2027-03-01T09:00:00+07:00/P1D starts at a date."
)


@dataclass(frozen=True)
class Problem:
    """One problem of a piece of code: the line it is on (None when the code as a whole) and what is wrong."""

    line: int | None
    message: str


@dataclass(frozen=True)
class TimerCheck:
    """A timer value in plain words, or the problem that keeps it from running (exactly one is set)."""

    words: str | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_code(code: str, kind: str) -> list[Problem]:
    """Every problem the sandbox finds in a script (``kind`` "script") or a condition ("condition"),
    compiled exactly as deployment compiles it; an empty list when the code would deploy."""
    mode = CODE_KINDS.get(kind)
    if mode is None:
        raise InvalidInput({"kind": [Message("The kind of code must be script or condition.")]})
    source = code if mode == "exec" else code.strip()
    if mode == "eval" and not source:
        return [Problem(None, Message('Write the condition, such as decision == "approve".'))]
    try:
        compile_script(source, mode)
    except ScriptError as exc:
        return _problems(exc.detail)
    return []


def _problems(detail: str) -> list[Problem]:
    """The sandbox joins its errors with "; " each starting "Line N: "; split them back into lines."""
    found = []
    for part in re.split(r"; (?=Line \d+: )", detail):
        match = _LINE.match(part)
        if match:
            found.append(Problem(int(match.group(1)), match.group(2)))
        else:
            found.append(Problem(None, part))
    return found


def check_timer(kind: str, text: str, *, attached: bool = True) -> TimerCheck:
    """The plain words of a timer's ISO 8601 value (not its Python expression: ``P5D``, not ``"P5D"``).

    ``attached``: a boundary timer counts from the start of its task; another from when the case
    reaches the event."""
    if kind not in TIMER_KINDS:
        raise InvalidInput({"kind": [Message("The kind of timer must be duration, date or cycle.")]})
    value = text.strip()
    if kind == "duration":
        parts = _duration(value)
        if isinstance(parts, Message):
            return TimerCheck(None, parts)
        span = _span(parts)
        if attached:
            return TimerCheck(Message("%(span)s after the task starts", span=span), None)
        return TimerCheck(Message("%(span)s after the case reaches this event", span=span), None)
    if kind == "date":
        moment = _date(value)
        if isinstance(moment, Message):
            return TimerCheck(None, moment)
        return TimerCheck(_moment_words(moment), None)
    return _cycle(value)


def _duration(value: str) -> dict[str, float] | Message:
    if not value:
        return Message("Write a duration, such as P5D (5 days) or PT4H (4 hours).")
    match = _DURATION.match(value.upper())
    if not match or value.upper() in ("P", "PT") or value.upper().endswith("T"):
        return Message(BAD_DURATION.msgid, text=value)
    parts = {unit: float(n.replace(",", ".")) for unit, n in zip(_UNITS, match.groups(), strict=True) if n is not None}
    if not parts:
        return Message(BAD_DURATION.msgid, text=value)
    if "weeks" in parts and any(unit in parts for unit in ("years", "months", "days")):
        return Message("Weeks cannot be combined with years, months or days: write P14D rather than P1W7D.")
    fractions = [unit for unit, n in parts.items() if n != int(n)]
    if fractions and fractions != [list(parts)[-1]]:
        return Message("Only the last number of a duration may have a fraction: write P1DT12H rather than P1.5DT2H.")
    return parts


def _span(parts: dict[str, float]) -> str:
    words = []
    for unit, n in parts.items():
        one, many, _alone = _UNIT_WORDS[unit]
        number = int(n) if n == int(n) else n
        words.append(Message((one if n == 1 else many).msgid, n=number))
    return listed(words)


def _every(parts: dict[str, float]) -> str:
    if len(parts) == 1 and next(iter(parts.values())) == 1:
        return _UNIT_WORDS[next(iter(parts))][2]
    return _span(parts)


def _date(value: str) -> datetime | Message:
    if not value:
        return Message("Write a date and time, such as 2027-03-01T09:00:00+07:00.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return Message(BAD_DATE.msgid, text=value)
    if "T" not in value.upper() and " " not in value:
        return Message("Add the time of day: 2027-03-01T09:00:00+07:00 rather than 2027-03-01.")
    if moment.tzinfo is None:
        return NO_OFFSET
    return moment


def _moment_words(moment: datetime) -> str:
    """``on 1 March 2027 at 09:00 WIB``: in the zone the value is written in when it is an Indonesian one,
    else in WIB."""
    offset = moment.utcoffset()
    zone = _ZONES.get(offset) if offset is not None else None
    if zone is None:
        zone, moment = "WIB", moment.astimezone(timezone(_WIB))
    day: date = moment.date()
    return Message("on %(day)s at %(time)s", day=day, time=moment.strftime("%H:%M") + " " + zone)


def _cycle(value: str) -> TimerCheck:
    if not value:
        return TimerCheck(None, Message("Write a cycle, such as R3/PT1H (3 times, every hour)."))
    pieces = value.split("/")
    head = pieces[0].upper()
    if not head.startswith("R") or len(pieces) not in (2, 3) or not (head[1:] == "" or head[1:].isdigit()):
        return TimerCheck(None, Message(BAD_CYCLE.msgid, text=value))
    count = int(head[1:]) if head[1:] else None
    if count == 0:
        return TimerCheck(None, Message("A cycle runs at least once: write R1 or more, or R alone for no end."))
    start: datetime | None = None
    if len(pieces) == 3:
        moment = _date(pieces[1])
        if isinstance(moment, Message):
            return TimerCheck(None, moment)
        start = moment
    parts = _duration(pieces[-1])
    if isinstance(parts, Message):
        return TimerCheck(None, parts)
    every = _every(parts)
    if count is None:
        words = Message("every %(every)s, without end", every=every)
    elif count == 1:
        words = Message("once, after %(span)s", span=_span(parts))
    else:
        words = Message("%(count)s times, every %(every)s", count=count, every=every)
    if start is not None:
        words = Message("%(cycle)s, starting %(moment)s", cycle=words, moment=_moment_words(start))
    return TimerCheck(words, None)


def draft_context(draft_id: int) -> dict[str, Any]:
    """What the properties panel of a draft picks from: ``lanes`` (lane name -> role), ``roles``, the
    deployed ``shared_steps`` (process ids), the draft's ``forms`` (``schemas``, ``ui_schemas``) and the
    ``decisions`` of its decision tables. NotFound for a draft that is not there (or discarded)."""
    draft = get_draft(draft_id)
    lanes = dict(catalog().lane_roles)
    schemas: list[str] = []
    ui_schemas: list[str] = []
    decisions: list[str] = []
    for name, text in sorted(draft.files.items()):
        if name.endswith(".dmn"):
            decisions.extend(decision_ids(text))
        elif name.endswith(".json") and not _TEXTS.search(name):
            (ui_schemas if _is_ui_schema(name, text) else schemas).append(name)
    return {
        "lanes": lanes,
        "roles": sorted(set(lanes.values())),
        "shared_steps": _shared_steps(),
        "forms": {"schemas": schemas, "ui_schemas": ui_schemas},
        "decisions": sorted(dict.fromkeys(decisions)),
    }


def _is_ui_schema(name: str, text: Any) -> bool:
    if name.endswith((".uischema.json", ".ui.json")):
        return True
    if name.endswith(".schema.json"):
        return False
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return False
    # A JSON Schema says what it is ($schema) or describes values (type, properties); a UI schema does neither.
    return isinstance(document, dict) and not ({"$schema", "type", "properties"} & set(document))


def _shared_steps() -> list[str]:
    ids = db.session.scalars(
        select(ProcessDefinition.process_id)
        .where(ProcessDefinition.trial.is_(False), ProcessDefinition.process_id.startswith("shared_"))
        .distinct()
    ).all()
    return sorted(process_id for process_id in ids if latest_definition(process_id) is not None)
