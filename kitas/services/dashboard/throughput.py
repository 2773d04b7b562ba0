"""The figures of the ``case_milestone`` projection: how fast and how cases go through the offices.

Each reads one kind of milestone over the window's days (``ix_case_milestone_kind_day``); the working
days from payment to decision join each decided case's ``paid`` row (``ix_case_milestone_case``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from statistics import median

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import aliased

from forms.texts import Message
from workflows.calendar import holiday_calendar, working_days_between

from ...extensions import db
from ...models import CaseMilestone
from .figures import WINDOW_DAYS, Figure, Scope, people, type_name

WEEKS = 4
REASONS_SHOWN = 10


def _where(scope: Scope, kind: str, since: date) -> list[ColumnElement[bool]]:
    where = [CaseMilestone.kind == kind, CaseMilestone.day >= since, CaseMilestone.day <= scope.today]
    if scope.offices is not None:
        where.append(CaseMilestone.office_id.in_(scope.offices))
    return where


def _since(scope: Scope) -> date:
    return scope.today - timedelta(days=WINDOW_DAYS - 1)


def payment_to_decision(scope: Scope) -> Figure:
    """Per type: the cases decided in the last 30 days and the median working days from payment to decision
    (weekends, national holidays and cuti bersama of ``workflows/holidays.json`` not counted)."""
    paid = aliased(CaseMilestone)
    query = (
        select(CaseMilestone.kitas_type, paid.day, CaseMilestone.day)
        .join(paid, (paid.application_id == CaseMilestone.application_id) & (paid.kind == "paid"))
        .where(*_where(scope, "decided", _since(scope)))
    )
    calendar = holiday_calendar()
    days: dict[str, list[int]] = defaultdict(list)
    for kitas_type, paid_day, decided_day in db.session.execute(query):
        if decided_day >= paid_day:
            days[kitas_type].append(working_days_between(paid_day, decided_day, calendar.closed, calendar.weekend))
    rows = [
        [type_name(code, scope.language), len(values), _number(median(values))] for code, values in sorted(days.items())
    ]
    return Figure(
        "processing",
        Message("Working days from payment to decision (last 30 days)"),
        [Message("Type"), Message("Decided cases"), Message("Median working days")],
        rows,
        note=Message("Weekends, national holidays and cuti bersama are not counted."),
    )


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 1)


def week_start(day: date) -> date:
    """The Monday of the ISO week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def decisions_per_officer(scope: Scope) -> Figure:
    """Per officer and week (the last four, Monday first): the tasks of officers' lanes they completed."""
    first = week_start(scope.today) - timedelta(weeks=WEEKS - 1)
    query = (
        select(CaseMilestone.actor_id, CaseMilestone.day, func.count())
        .where(*_where(scope, "officer_decision", first))
        .group_by(CaseMilestone.actor_id, CaseMilestone.day)
    )
    counts: Counter[tuple[int | None, date]] = Counter()
    for actor_id, day, count in db.session.execute(query):
        counts[(actor_id, week_start(day))] += count
    names = people([actor for actor, _ in counts])
    rows = [
        [names.get(actor, actor), week, count]
        for (actor, week), count in sorted(counts.items(), key=lambda item: (str(names.get(item[0][0])), item[0][1]))
    ]
    return Figure(
        "decisions",
        Message("Decisions per officer per week"),
        [Message("Officer"), Message("Week starting"), Message("Decisions")],
        rows,
    )


def arrivals_and_completions(scope: Scope) -> Figure:
    """Per day of the last 30: cases paid (arriving at the office) and cases completed (closed)."""
    since = _since(scope)
    counts: Counter[tuple[str, date]] = Counter()
    for kind in ("paid", "completed"):
        query = select(CaseMilestone.day, func.count()).where(*_where(scope, kind, since)).group_by(CaseMilestone.day)
        for day, count in db.session.execute(query):
            counts[(kind, day)] = count
    rows = []
    for offset in range(WINDOW_DAYS):
        day = since + timedelta(days=offset)
        rows.append([day, counts[("paid", day)], counts[("completed", day)]])
    return Figure(
        "flow",
        Message("Daily arrivals and completions (last 30 days)"),
        [Message("Day"), Message("Arrivals (paid)"), Message("Completions (closed)")],
        rows,
    )


def corrections(scope: Scope) -> Figure:
    """Of the cases an officer sent back or decided in the last 30 days: the share sent back for corrections,
    and the reasons given, most frequent first."""
    since = _since(scope)
    sent = set()
    reasons: Counter[str] = Counter()
    query = select(CaseMilestone.application_id, CaseMilestone.reason).where(
        *_where(scope, "corrections_requested", since)
    )
    for application_id, reason in db.session.execute(query):
        sent.add(application_id)
        reasons[" ".join((reason or "").split()) or "—"] += 1
    decided = set(db.session.scalars(select(CaseMilestone.application_id).where(*_where(scope, "decided", since))))
    worked = len(sent | decided)
    share = round(100 * len(sent) / worked) if worked else 0
    requests = sum(reasons.values())
    rows = [[reason, count] for reason, count in reasons.most_common(REASONS_SHOWN)]
    return Figure(
        "corrections",
        Message("Cases sent back for corrections, and why (last 30 days)"),
        [Message("Reason"), Message("Requests")],
        rows,
        note=Message(
            "%(share)s%% of %(cases)s cases sent back or decided were sent back for corrections (%(requests)s "
            "requests).",
            share=share,
            cases=worked,
            requests=requests,
        ),
    )
