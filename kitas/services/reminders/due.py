"""Plan and send the catalog's reminders, each once.

A pass first *plans*: for each rule it finds the subjects that have no reminder row yet (a pending
timer of the rule's boundary event, an open task of the rule's user task or of its role's lane, a
case in the rule's status whose data holds the rule's date) and inserts one row per (case, rule,
subject) with the moment it is due, ``ON CONFLICT DO NOTHING`` on that unique key. Reading the case
data (for a date) happens once per case, when its row is planned; timers and tasks are read from
their projections.

Then it *sends*: due pending rows are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write
lock of ``BEGIN IMMEDIATE`` on SQLite), and in that same transaction each is checked again (the timer
still pending and not past, the task still open, the case still in the status), its notifications are
queued in the outbox (``notify_text``) and the row is marked sent, or dropped when its subject is gone.
The outbox rows and the mark commit together, so a reminder is queued exactly once however many
schedulers run and wherever one stops; the outbox then sends the e-mails and SMS under its lease,
retries them with backoff and opens an incident after its last attempt. Nothing here touches a case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from forms.texts import Message
from workflows import ReminderRule, catalog

from ...extensions import app_clock, db
from ...models import Application, HumanTask, Reminder, Timer, User
from ...transactions import is_postgres, write_transaction
from .. import notifications
from ..cases import read_runtime
from ..cases.access import is_named_sponsor

log = logging.getLogger(__name__)

REMINDER = "case.reminder"
BATCH = 50
PLAN_BATCH = 200
# Where an appointment's day is counted when its reader chose no zone (the offices' own zone).
HOME_ZONE = "Asia/Jakarta"
# The subject of a planned row whose case data held no date: nothing to remind of, never read again.
NO_DATE = "-"


def send_due_reminders() -> int:
    """The scheduler's job: plan the reminders of new subjects, then send the due ones; returns how many
    were sent."""
    plan_reminders()
    return send_reminders()


# --- planning ----------------------------------------------------------------------------------------


def plan_reminders(limit: int = PLAN_BATCH) -> int:
    """Insert a pending row for every subject of a rule that has none yet (at most ``limit`` per rule);
    returns how many rows were offered (a row another scheduler planned meanwhile is left as it is)."""
    now = app_clock().now()
    rows: list[dict[str, Any]] = []
    try:
        for rule in catalog().reminders.values():
            if rule.timer:
                rows.extend(_timer_subjects(rule, limit, now))
            elif rule.on_task:
                rows.extend(_task_subjects(rule, limit, now))
            else:
                rows.extend(_date_subjects(rule, limit, now))
    finally:
        db.session.rollback()  # the reads end here; nothing is held while the rows are written
    if not rows:
        return 0
    dialect = postgresql if is_postgres() else sqlite
    statement = dialect.insert(Reminder.__table__).values(rows)
    with write_transaction():
        db.session.execute(statement.on_conflict_do_nothing(index_elements=["application_id", "rule", "subject"]))
    return len(rows)


def _row(
    application_id: int, rule: ReminderRule, subject: str, due: datetime, event: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "application_id": application_id,
        "rule": rule.name,
        "subject": subject[:64],
        "due_at": due,
        "event_at": event,
        "status": "pending",
        "created_at": now,
        "done_at": None,
    }


def _unplanned(rule: ReminderRule, application_id: Any, subject: Any = None) -> Any:
    found = exists().where(Reminder.application_id == application_id, Reminder.rule == rule.name)
    return ~(found.where(Reminder.subject == subject) if subject is not None else found)


def _timer_subjects(rule: ReminderRule, limit: int, now: datetime) -> Iterable[dict[str, Any]]:
    """The rule's boundary timer, pending: due ``hours_before`` it fires."""
    found = db.session.execute(
        select(Timer.application_id, Timer.task_id, Timer.due_at)
        .where(Timer.status == "pending", Timer.element_id == rule.timer)
        .where(_unplanned(rule, Timer.application_id, Timer.task_id))
        .limit(limit)
    )
    before = timedelta(hours=rule.hours_before)
    return [_row(r.application_id, rule, r.task_id, r.due_at - before, r.due_at, now) for r in found]


def _task_subjects(rule: ReminderRule, limit: int, now: datetime) -> Iterable[dict[str, Any]]:
    """The rule's user task (or any task of its role), open: due ``hours_after`` it opened."""
    which = HumanTask.element_id == rule.task if rule.task else HumanTask.role == rule.role
    found = db.session.execute(
        select(HumanTask.application_id, HumanTask.task_id, HumanTask.created_at)
        .where(which)
        .where(_unplanned(rule, HumanTask.application_id, HumanTask.task_id))
        .limit(limit)
    )
    after = timedelta(hours=rule.hours_after)
    return [_row(r.application_id, rule, r.task_id, r.created_at + after, r.created_at, now) for r in found]


def _date_subjects(rule: ReminderRule, limit: int, now: datetime) -> Iterable[dict[str, Any]]:
    """Cases in the rule's status, their date read once from the case data: due ``days_before`` that day
    at ``hour`` in the applicant's zone."""
    cases = db.session.scalars(
        select(Application)
        .where(Application.status == rule.status, Application.closed_at.is_(None))
        .where(_unplanned(rule, Application.id))
        .limit(limit)
    )
    rows = []
    for application in list(cases):
        day = _date_in(application, str(rule.date_field))
        if day is None:  # nothing to remind of: a row that says so, so the case is not read again
            rows.append(_row(application.id, rule, NO_DATE, now, now, now) | {"status": "dropped", "done_at": now})
            continue
        rows.append(_date_row(application, rule, day, now))
    return rows


def replan_date_reminders(application: Application, data: dict[str, Any], now: datetime) -> None:
    """Inside the transaction that changes a date of the case data (an appointment booked, moved or
    cancelled): the date rules reading a field of ``data`` forget their pending and dropped rows and plan
    the new date, so the reminder follows the booking. A reminder already sent stays sent (and a day
    already reminded of is not reminded of twice)."""
    for rule in catalog().reminders.values():
        if not rule.date_field or rule.date_field not in data:
            continue
        db.session.execute(
            Reminder.__table__.delete().where(
                Reminder.application_id == application.id,
                Reminder.rule == rule.name,
                Reminder.status.in_(("pending", "dropped")),
            )
        )
        day = _parsed_date(data[rule.date_field])
        if day is None:
            continue
        row = _date_row(application, rule, day, now)
        dialect = postgresql if is_postgres() else sqlite
        statement = dialect.insert(Reminder.__table__).values([row])
        db.session.execute(statement.on_conflict_do_nothing(index_elements=["application_id", "rule", "subject"]))


def _date_row(application: Application, rule: ReminderRule, day: date, now: datetime) -> dict[str, Any]:
    zone = _zone_of(db.session.get(User, application.applicant_id))
    start = datetime.combine(day, time(0), zone)
    due = datetime.combine(day - timedelta(days=rule.days_before), time(rule.hour), zone)
    return _row(application.id, rule, day.isoformat(), due.astimezone(UTC), start.astimezone(UTC), now)


def _parsed_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _date_in(application: Application, field: str) -> date | None:
    try:
        value = read_runtime(application).data.get(field)
    except Exception:  # a state that cannot be read is the case's incident, not the reminder's
        log.warning("reminders: the data of case %s cannot be read", application.id, exc_info=True)
        return None
    return _parsed_date(value)


def _zone_of(user: User | None) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(user, "time_zone", None) or HOME_ZONE)
    except (ValueError, KeyError):
        return ZoneInfo(HOME_ZONE)


# --- sending -----------------------------------------------------------------------------------------


def send_reminders(limit: int = BATCH) -> int:
    """Queue the notifications of every due pending reminder, each in one transaction with its mark;
    returns how many were sent."""
    sent = 0
    while True:
        with write_transaction():
            now = app_clock().now()
            query = (
                select(Reminder)
                .where(Reminder.status == "pending", Reminder.due_at <= now)
                .order_by(Reminder.due_at, Reminder.id)
                .limit(limit)
            )
            if is_postgres():
                query = query.with_for_update(skip_locked=True)
            due = list(db.session.scalars(query))
            for reminder in due:
                status = _settle(reminder, now)
                reminder.status, reminder.done_at = status, now
                sent += status == "sent"
        if len(due) < limit:
            return sent


def _settle(reminder: Reminder, now: datetime) -> str:
    """Queue one reminder's notifications (in a savepoint, so a broken one does not hold up the others);
    returns its new status."""
    try:
        with db.session.begin_nested():
            return _deliver(reminder, now)
    except Exception:  # its words cannot be written (a catalog error, say): recorded, the others go on
        log.exception("reminder %s (%s) could not be queued", reminder.id, reminder.rule)
        return "failed"


def _deliver(reminder: Reminder, now: datetime) -> str:
    rule = catalog().reminders.get(reminder.rule)
    application = db.session.get(Application, reminder.application_id)
    # A trial case of the studio tells nobody anything (its applicant is the analyst trying it).
    if rule is None or application is None or application.closed_at is not None or application.trial:
        return "dropped"
    if not _still_due(rule, reminder, application, now):
        return "dropped"
    applicant = db.session.get(User, application.applicant_id)
    recipient = applicant if rule.recipient == "applicant" else _sponsor_of(application)
    if recipient is None:
        return "dropped"
    params: dict[str, Any] = {
        "rule": rule.name,
        "reference": application.reference,
        "applicant": applicant.full_name if applicant else None,
        "deadline": reminder.event_at if rule.timer else None,
        "date": date.fromisoformat(reminder.subject) if rule.date_field else None,
    }
    notifications.notify_text(
        recipient,
        REMINDER,
        params,
        link=_link(rule, application, reminder),
        application_id=application.id,
        channels=("in_app", "email", "sms") if rule.sms else ("in_app", "email"),
    )
    return "sent"


def _still_due(rule: ReminderRule, reminder: Reminder, application: Application, now: datetime) -> bool:
    """Whether what the reminder speaks of still holds: the deadline ahead, the task open, the day to come."""
    if rule.timer:
        pending = db.session.scalar(
            select(Timer.id).where(
                Timer.application_id == application.id, Timer.task_id == reminder.subject, Timer.status == "pending"
            )
        )
        return pending is not None and reminder.event_at > now
    if rule.on_task:
        task = db.session.scalar(
            select(HumanTask.id).where(
                HumanTask.application_id == application.id, HumanTask.task_id == reminder.subject
            )
        )
        return task is not None
    return application.status == rule.status and reminder.event_at + timedelta(days=1) > now


def _sponsor_of(application: Application) -> User | None:
    if not application.sponsor_email:
        return None
    query = select(User).options(joinedload(User.roles)).where(User.email == application.sponsor_email)
    sponsor = db.session.scalars(query).unique().first()
    return sponsor if sponsor is not None and is_named_sponsor(application, sponsor) else None


def _link(rule: ReminderRule, application: Application, reminder: Reminder) -> str:
    if rule.recipient == "sponsor":
        if rule.on_task:
            return f"/sponsor/applications/{application.reference}/tasks/{reminder.subject}"
        return "/sponsor/"
    return f"/applications/{application.reference}"


# --- the words ---------------------------------------------------------------------------------------


def _reminder_text(params: dict[str, Any], language: str) -> notifications.Notice:
    """The rule's subject and body in ``language`` (the catalog's words), the times in the reader's zone."""
    rule = catalog(language).reminders[str(params["rule"])]
    words = {
        "reference": str(params["reference"]),
        "applicant": params.get("applicant") or notifications.localized(Message("An applicant")),
        "deadline": notifications.shown(params["deadline"]) if params.get("deadline") else "",
        "date": notifications.shown(params["date"]) if params.get("date") else "",
    }
    return notifications.Notice(rule.subject.format(**words), rule.body.format(**words))


notifications.register_text(REMINDER, _reminder_text)
