"""The offices file (``workflows/offices.json``): read, checked entry by entry, and kept while unchanged.

The file lists the offices, the domicile rule (province -> office code) and the ``default_office``
of a case whose domicile is not known. A file with any problem is refused as a whole, every problem
naming its entry; nothing of it is used until it is right.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from forms.texts import Message, joined

from ..errors import ServiceError

OFFICES_FILE = Path(__file__).resolve().parents[3] / "workflows" / "offices.json"
# Indonesia's three time zones, by the IANA zones of its regions (Pontianak keeps WIB).
ZONE_LABELS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# The longest values the office table keeps (kitas/models/office.py); the province column is 60.
_LENGTHS = {"code": 16, "name": 200, "city": 100, "address": 300}
_PROVINCE_LENGTH = 60


class OfficesFileRefused(ServiceError):
    """The offices file cannot be used; ``problems`` names each entry that is wrong and how."""

    def __init__(self, problems: list[Message]):
        self.problems = problems
        super().__init__(joined(problems))


@dataclass(frozen=True)
class OfficeEntry:
    """One office as the file describes it."""

    code: str
    name: str
    city: str
    address: str
    time_zone: str
    opens: str
    closes: str
    working_days: tuple[int, ...]


@dataclass(frozen=True)
class OfficesFile:
    """The checked file: the offices, the domicile rule and the office of an unknown domicile."""

    offices: tuple[OfficeEntry, ...]
    domicile_rule: dict[str, str]
    default_office: str

    @property
    def provinces(self) -> list[str]:
        """The provinces the rule knows, in alphabetical order (what the forms offer)."""
        return sorted(self.domicile_rule)


def zone_label(time_zone: str) -> str:
    """WIB, WITA or WIT for an Indonesian IANA zone (the zone itself for any other)."""
    return ZONE_LABELS.get(time_zone, time_zone)


_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int], OfficesFile]] = {}


def read_offices_file(path: Path) -> OfficesFile:
    """The checked offices file at ``path`` (read again only when it changed); OfficesFileRefused lists
    every problem."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise OfficesFileRefused(
            [Message("%(file)s cannot be read: %(error)s", file=path.name, error=exc.strerror or str(exc))]
        ) from exc
    key = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        refused = [Message("%(file)s is not valid JSON: %(error)s", file=path.name, error=str(exc))]
        raise OfficesFileRefused(refused) from exc
    checked = parse_offices(raw)
    with _lock:
        _cache[path] = (key, checked)
    return checked


def parse_offices(raw: Any) -> OfficesFile:
    """Check the file's content; OfficesFileRefused lists every problem, each naming its entry."""
    problems: list[Message] = []
    if not isinstance(raw, dict):
        raise OfficesFileRefused([Message("the offices file must be a JSON object with offices and domicile_rule")])
    entries = raw.get("offices")
    if not isinstance(entries, list) or not entries:
        problems.append(Message("'offices' must be a list of at least one office"))
        entries = []
    offices: list[OfficeEntry] = []
    for number, entry in enumerate(entries, start=1):
        office = _office(number, entry, problems)
        if office is None:
            continue
        if any(known.code == office.code for known in offices):
            problems.append(Message("office %(code)s is listed twice", code=office.code))
            continue
        offices.append(office)
    # Every code the file lists, an entry with problems included: one mistake is reported once, not again
    # at each province that names its office.
    codes = {entry["code"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("code"), str)}
    rule = _rule(raw.get("domicile_rule"), codes, problems)
    default = raw.get("default_office")
    if not isinstance(default, str) or not default:
        problems.append(Message("'default_office' must name the office of a case whose domicile is unknown"))
        default = ""
    elif codes and default not in codes:
        problems.append(Message("'default_office' names %(code)s, which is not an office of the file", code=default))
    if problems:
        raise OfficesFileRefused(problems)
    return OfficesFile(tuple(offices), rule, default)


def _office(number: int, entry: Any, problems: list[Message]) -> OfficeEntry | None:
    """One office entry, or None with its problems added (each naming the entry by number and code)."""
    if not isinstance(entry, dict):
        problems.append(Message("office %(number)s is not an object", number=number))
        return None
    code = entry.get("code")
    label = f"{number} ({code})" if isinstance(code, str) and code else str(number)
    before = len(problems)
    for field, length in _LENGTHS.items():
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            problems.append(Message("office %(office)s: '%(field)s' is missing", office=label, field=field))
        elif len(value) > length:
            problems.append(
                Message(
                    "office %(office)s: '%(field)s' is longer than %(length)s characters",
                    office=label,
                    field=field,
                    length=length,
                )
            )
    zone = entry.get("time_zone")
    if zone not in ZONE_LABELS:
        problems.append(
            Message(
                "office %(office)s: time zone %(zone)s is not one of Indonesia's (%(zones)s)",
                office=label,
                zone=repr(zone),
                zones=", ".join(f"{name} {tag}" for name, tag in ZONE_LABELS.items()),
            )
        )
    else:
        try:
            ZoneInfo(str(zone))
        except ZoneInfoNotFoundError:
            problems.append(Message("office %(office)s: time zone %(zone)s is unknown here", office=label, zone=zone))
    opens, closes = entry.get("opens"), entry.get("closes")
    hours_ok = True
    for field, value in (("opens", opens), ("closes", closes)):
        if not isinstance(value, str) or not _TIME.match(value):
            problems.append(
                Message("office %(office)s: '%(field)s' must be a time like 08:00", office=label, field=field)
            )
            hours_ok = False
    if hours_ok and str(opens) >= str(closes):
        problems.append(
            Message(
                "office %(office)s: it opens at %(opens)s, not before it closes at %(closes)s",
                office=label,
                opens=opens,
                closes=closes,
            )
        )
    days = entry.get("working_days")
    if (
        not isinstance(days, list)
        or not days
        or any(not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 7 for day in days)
        or len(set(days)) != len(days)
    ):
        problems.append(
            Message("office %(office)s: 'working_days' must list ISO weekdays 1 (Monday) to 7, each once", office=label)
        )
    if len(problems) > before:
        return None
    return OfficeEntry(
        code=str(code),
        name=entry["name"].strip(),
        city=entry["city"].strip(),
        address=entry["address"].strip(),
        time_zone=str(zone),
        opens=str(opens),
        closes=str(closes),
        working_days=tuple(sorted(days or ())),
    )


def _rule(rule: Any, codes: set[str], problems: list[Message]) -> dict[str, str]:
    """The domicile rule, each province checked (a known office, a name the case row can hold)."""
    if not isinstance(rule, dict) or not rule:
        problems.append(Message("'domicile_rule' must map each province to an office code"))
        return {}
    checked: dict[str, str] = {}
    for province, code in rule.items():
        if not province.strip() or len(province) > _PROVINCE_LENGTH:
            problems.append(
                Message(
                    "domicile rule: the province %(province)s must be a name of 1 to %(length)s characters",
                    province=repr(province[:80]),
                    length=_PROVINCE_LENGTH,
                )
            )
        elif not isinstance(code, str) or code not in codes:
            problems.append(
                Message(
                    "domicile rule: %(province)s goes to %(code)s, which is not an office of the file",
                    province=province,
                    code=repr(code),
                )
            )
        else:
            checked[province] = code
    return checked
