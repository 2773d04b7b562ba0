"""Working days in Indonesia: weekends, the national holidays and cuti bersama of workflows/holidays.json."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from workflows.calendar import holiday_calendar, working_days_between

HOLIDAYS = holiday_calendar().closed


def _counted_one_by_one(start: date, end: date, closed: frozenset[date]) -> int:
    days = ((start + timedelta(days=n)) for n in range(1, (end - start).days + 1))
    return sum(1 for day in days if day.isoweekday() < 6 and day not in closed)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 1, 6), date(2026, 1, 6), 0),  # the same day
        (date(2026, 1, 9), date(2026, 1, 12), 1),  # Friday to Monday: the weekend is not counted
        (date(2026, 1, 10), date(2026, 1, 11), 0),  # Saturday to Sunday
        (date(2026, 1, 5), date(2026, 1, 12), 5),  # a week
    ],
)
def test_weekends_are_not_working_days(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


def test_holidays_and_cuti_bersama_are_not_working_days() -> None:
    # 13 to 27 March 2026: Nyepi (19th) with its cuti bersama (18th), Idul Fitri (21st, 22nd: a weekend)
    # with its cuti bersama (20th, 23rd, 24th) leave 16, 17, 25, 26 and 27 March.
    assert working_days_between(date(2026, 3, 13), date(2026, 3, 27), HOLIDAYS) == 5
    assert working_days_between(date(2026, 3, 13), date(2026, 3, 27)) == 10


def test_a_holiday_on_a_weekend_is_not_taken_off_twice() -> None:
    # Idul Fitri 2025: Nyepi fell on Saturday 29 March; from Thursday 27 March only Tuesday 8 April works.
    assert working_days_between(date(2025, 3, 27), date(2025, 4, 8), HOLIDAYS) == 1


def test_across_the_turn_of_the_year() -> None:
    # Christmas (25th), its cuti bersama (26th) and New Year's Day are out: 29, 30, 31 Dec, 2 and 5 Jan remain.
    assert working_days_between(date(2025, 12, 24), date(2026, 1, 5), HOLIDAYS) == 5
    assert working_days_between(date(2026, 12, 23), date(2027, 1, 4), HOLIDAYS) == 5  # 24th cuti, 25th, 1st out


def test_the_count_equals_counting_day_by_day() -> None:
    rng = random.Random(11)
    for _ in range(300):
        start = date(2025, 1, 1) + timedelta(days=rng.randrange(1000))
        end = start + timedelta(days=rng.randrange(120))
        assert working_days_between(start, end, HOLIDAYS) == _counted_one_by_one(start, end, HOLIDAYS), (start, end)


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError, match="before the start"):
        working_days_between(date(2026, 1, 6), date(2026, 1, 5))


def test_the_holidays_file_covers_2025_to_2027_and_says_which_year_is_not_decreed() -> None:
    calendar = holiday_calendar()
    assert calendar.years == frozenset({2025, 2026, 2027})
    assert calendar.expected_years == frozenset({2027})
    assert date(2025, 8, 17) in calendar.closed and date(2026, 3, 20) in calendar.closed
    assert calendar.weekend == frozenset({6, 7})
