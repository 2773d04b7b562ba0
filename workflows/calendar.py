"""Working days in Indonesia: weekends and the national holidays and cuti bersama of ``holidays.json``.

The holidays are data (the joint ministerial decree of each year changes them); the count itself is a
pure function of two dates and the closed days, so it is tested without a database or a clock.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

HOLIDAYS_FILE = Path(__file__).with_name("holidays.json")


@dataclass(frozen=True)
class HolidayCalendar:
    """The days offices are closed besides the weekend, and the years the file covers."""

    closed: frozenset[date]
    weekend: frozenset[int]  # ISO weekdays: 6 Saturday, 7 Sunday
    years: frozenset[int]
    expected_years: frozenset[int]  # years whose dates are expected, not yet decreed


def working_days_between(
    start: date, end: date, closed: Collection[date] = (), weekend: Collection[int] = (6, 7)
) -> int:
    """The working days after ``start`` up to and including ``end``: the same day is 0, Friday to the next
    Monday is 1; a weekend day or a closed day (a holiday) does not count. ``end`` before ``start``: ValueError."""
    if end < start:
        raise ValueError(f"the end {end.isoformat()} is before the start {start.isoformat()}")
    whole_weeks, rest = divmod((end - start).days, 7)
    count = whole_weeks * (7 - len(set(weekend)))
    day = start + timedelta(days=whole_weeks * 7)
    for _ in range(rest):
        day += timedelta(days=1)
        if day.isoweekday() not in weekend:
            count += 1
    count -= sum(1 for holiday in set(closed) if start < holiday <= end and holiday.isoweekday() not in weekend)
    return count


@lru_cache(maxsize=1)
def holiday_calendar() -> HolidayCalendar:
    """The holidays file, read once per process."""
    raw = json.loads(HOLIDAYS_FILE.read_text(encoding="utf-8"))
    closed: set[date] = set()
    expected: set[int] = set()
    for year, entry in raw["years"].items():
        for item in [*entry.get("holidays", []), *entry.get("cuti_bersama", [])]:
            day = date.fromisoformat(item["date"])
            if day.year != int(year):
                raise ValueError(f"holidays.json: {item['date']} is listed under {year}")
            closed.add(day)
        if entry.get("status") != "decreed":
            expected.add(int(year))
    return HolidayCalendar(
        closed=frozenset(closed),
        weekend=frozenset(raw.get("weekend", [6, 7])),
        years=frozenset(int(year) for year in raw["years"]),
        expected_years=frozenset(expected),
    )
