"""The supervisors' dashboard: milestones written where the events happen, each figure's known answer,
the SLA of a task and the late work per officer, and who may see them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from kitas.extensions import db
from kitas.models import Application, CaseMilestone, Office, officer_offices
from kitas.services import cases, dashboard
from kitas.services.cases import timers
from kitas.services.errors import Forbidden
from tests.factories import give_offices
from tests.services.helpers import complete, open_task, request_corrections, start_until_verification

WIB = ZoneInfo("Asia/Jakarta")

# The office of a case started without a province (the offices file's default_office).
JKS = "Kantor Imigrasi Kelas I Khusus TPI Jakarta Selatan (Jakarta Selatan)"


def _figure(user: Any, key: str) -> dashboard.Figure:
    return dashboard.figure(user, key, "en")


def _milestones(application_id: int) -> list[tuple[str, int | None, str | None, str | None]]:
    rows = db.session.scalars(
        select(CaseMilestone).where(CaseMilestone.application_id == application_id).order_by(CaseMilestone.id)
    )
    return [(row.kind, row.actor_id, row.element_id, row.reason) for row in rows]


def _through_corrections_to_decision(users: dict[str, Any], clock: Any) -> Application:
    application = start_until_verification(users)  # paid on Monday 5 January 2026
    clock.advance(days=1)
    request_corrections(application.id, users["verifier"], "The passport scan is blurred")
    complete(application.id, "submit_corrections", users["applicant"])
    clock.advance(days=1)
    complete(application.id, "verify_documents", users["verifier"])
    clock.advance(days=2)  # Friday 9 January
    return complete(application.id, "supervisor_approval", users["supervisor"])


def test_a_case_records_its_milestones_where_they_happen(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = _through_corrections_to_decision(users, clock)
    verifier, supervisor = users["verifier"].id, users["supervisor"].id
    assert _milestones(application.id) == [
        ("paid", None, None, None),
        ("officer_decision", verifier, "verify_documents", None),
        ("corrections_requested", verifier, None, "The passport scan is blurred"),
        # the second verification enters in_verification again: "paid" is recorded once only
        ("officer_decision", verifier, "verify_documents", None),
        ("officer_decision", supervisor, "supervisor_approval", None),
        ("decided", supervisor, None, None),
    ]
    days = db.session.scalars(select(CaseMilestone.day).where(CaseMilestone.application_id == application.id))
    assert set(days) == {date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 9)}


def test_the_figures_of_a_case_sent_back_once_and_approved(worker: int, users: dict[str, Any], clock: Any) -> None:
    _through_corrections_to_decision(users, clock)
    admin = users["admin"]
    assert _figure(admin, "processing").rows == [["Work KITAS", 1, 4]]  # Mon 5 -> Fri 9 January
    corrections = _figure(admin, "corrections")
    assert corrections.rows == [["The passport scan is blurred", 1]]
    assert str(corrections.note).startswith("100% of 1 cases")
    decisions = _figure(admin, "decisions").rows
    assert decisions == [
        ["Sam Supervisor", date(2026, 1, 5), 1],
        ["Vera Verifier", date(2026, 1, 5), 2],
    ]
    flow = {row[0]: row[1:] for row in _figure(admin, "flow").rows}
    assert flow[date(2026, 1, 5)] == [1, 0] and len(flow) == 30
    assert sum(row[0] for row in flow.values()) == 1


def _seed(application: Application, kind: str, day: date, **values: Any) -> None:
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=WIB)
    db.session.execute(
        insert(CaseMilestone.__table__),
        [
            {
                "application_id": application.id,
                "kind": kind,
                "at": at,
                "day": day,
                "kitas_type": "worker",
                "office_id": application.office_id,
                **values,
            }
        ],
    )


def _offices() -> tuple[Office, Office]:
    made = []
    for code, zone in (("AAA", "Asia/Jakarta"), ("BBB", "Asia/Makassar")):
        office = Office(
            code=code,
            name=f"Kantor {code}",
            city=code.title(),
            address="Jl. 1",
            time_zone=zone,
            opens="08:00",
            closes="16:00",
            working_days="1,2,3,4,5",
            active=True,
        )
        db.session.add(office)
        made.append(office)
    db.session.flush()
    return made[0], made[1]


def test_median_working_days_per_type_over_the_last_30_days(worker: int, users: dict[str, Any], clock: Any) -> None:
    clock.set(datetime(2026, 3, 31, 3, 0, tzinfo=ZoneInfo("UTC")))  # Tuesday 31 March 2026, WIB
    made = [cases.start_case("worker", users["applicant"]) for _ in range(5)]
    # paid -> decided, in working days: 2, 3 (Nyepi's and Idul Fitri's days are not counted) and 7; one decided
    # too long ago.
    spans = [
        (date(2026, 3, 25), date(2026, 3, 27)),
        (date(2026, 3, 16), date(2026, 3, 26)),
        (date(2026, 3, 12), date(2026, 3, 30)),
        (date(2026, 1, 5), date(2026, 2, 20)),
    ]
    for application, (paid, decided) in zip(made, spans, strict=False):
        _seed(application, "paid", paid)
        _seed(application, "decided", decided)
    _seed(made[4], "decided", date(2026, 3, 30))  # decided without a payment on record: not counted
    db.session.commit()
    figure = _figure(users["admin"], "processing")
    assert figure.rows == [["Work KITAS", 3, 3]]  # 10, 9 and 18 calendar days


def test_figures_count_only_the_readers_offices(worker: int, users: dict[str, Any], clock: Any) -> None:
    ours, theirs = _offices()
    mine = cases.start_case("worker", users["applicant"])
    other = cases.start_case("worker", users["applicant"])
    db.session.get(Application, mine.id).office_id = ours.id
    db.session.get(Application, other.id).office_id = theirs.id
    db.session.execute(insert(officer_offices), [{"user_id": users["supervisor"].id, "office_id": ours.id}])
    today = date(2026, 1, 5)
    for application in (mine, other):
        _seed(application, "paid", today)
        _seed(application, "completed", today, element_id="rejected")
    _seed(other, "corrections_requested", today, reason="Wrong office")
    db.session.commit()
    supervisor_flow = {row[0]: row[1:] for row in _figure(users["supervisor"], "flow").rows}
    assert supervisor_flow[today] == [1, 1]
    assert _figure(users["supervisor"], "corrections").rows == []
    admin_flow = {row[0]: row[1:] for row in _figure(users["admin"], "flow").rows}
    assert admin_flow[today] == [2, 2]
    assert _figure(users["admin"], "corrections").rows == [["Wrong office", 1]]


def test_open_and_late_tasks_per_step_office_and_officer(worker: int, users: dict[str, Any], clock: Any) -> None:
    first = start_until_verification(users)
    start_until_verification(users)
    steps = _figure(users["admin"], "steps").rows
    assert ["Verify documents", JKS, 2, 0] in steps  # the default office: no province given
    clock.advance(days=5, minutes=1)
    claimed = open_task(first.id, "verify_documents")
    from kitas.services.cases.claims import claim_task

    claim_task(first.reference, claimed.task_id, users["verifier"])
    assert ["Verify documents", JKS, 2, 2] in _figure(users["admin"], "steps").rows
    assert sorted(_figure(users["admin"], "late").rows) == [["Nobody (unclaimed)", 1, 0], ["Vera Verifier", 1, 0]]


def test_an_escalated_task_names_its_timer_and_since_when(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = start_until_verification(users)
    due = clock.now() + timedelta(days=5)
    clock.advance(days=5, hours=2)
    assert len(timers.fire_due_timers("test").fired) == 1
    db.session.expire_all()
    task = open_task(application.id, "verify_documents")
    assert task.escalated_by == "verify_sla" and task.escalated_at == clock.now()
    sla = dashboard.task_sla(task, db.session.get(Application, application.id), "en")
    assert sla.due_at == due and sla.state == "late" and str(sla.left) == "late by 2 h 0 min"
    assert sla.escalated_by == "Verification SLA (5 days)" and sla.escalated_at == clock.now()
    give_offices(users["supervisor"], ("DPS",))
    db.session.commit()
    late = dashboard.late_work(users["supervisor"], "en")
    assert late.total == 0  # a supervisor of another office sees none of this office's cases
    late = dashboard.late_work(users["admin"], "en")
    assert late.total == 1 and late.groups[0][0] == "Nobody (unclaimed)"
    assert late.groups[0][1][0].reference == application.reference
    assert late.groups[0][1][0].sla.escalated_by == "Verification SLA (5 days)"
    assert _figure(users["admin"], "late").rows == [["Nobody (unclaimed)", 1, 1]]


def test_time_left_before_the_due_time(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = start_until_verification(users)
    clock.advance(days=4, hours=1)
    task = open_task(application.id, "verify_documents")
    sla = dashboard.task_sla(task, db.session.get(Application, application.id), "en")
    assert sla.state == "soon" and str(sla.left) == "23 h 0 min left" and sla.escalated_at is None


@pytest.mark.parametrize("role", ["verifier", "applicant", "analyst"])
def test_only_supervisors_and_admins_see_the_dashboard(users: dict[str, Any], role: str) -> None:
    with pytest.raises(Forbidden):
        dashboard.dashboard(users[role])
    with pytest.raises(Forbidden):
        dashboard.late_work(users[role])
    assert dashboard.dashboard(users["supervisor"]).figures
