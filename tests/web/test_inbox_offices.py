"""The inbox by office: an officer sees her offices' tasks only (rows, counts and searches), an admin
every office's and those of no office; the office filter with its counts and the office column; the
escalated filter and the flag with its reason on escalated rows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import delete, insert, update

from kitas.extensions import db
from kitas.models import Application, HumanTask, Office, User, officer_offices
from kitas.services.cases import timers
from kitas.services.cases.inbox import InboxQuery, officer_inbox
from tests.factories import make_user
from tests.services.helpers import start_until_verification
from tests.web.pages import filter_count

pytestmark = pytest.mark.usefixtures("worker")


def _office(code: str, city: str) -> Office:
    office = Office(
        code=code,
        name=f"Kantor Imigrasi {city}",
        city=city,
        address=f"Jl. {city} No. 1",
        time_zone="Asia/Jakarta",
        opens="08:00",
        closes="16:00",
        working_days="1,2,3,4,5",
        active=True,
    )
    db.session.add(office)
    db.session.commit()
    return office


@pytest.fixture()
def offices() -> dict[str, Office]:
    """Two offices of this module's own (whatever office the cases and officers were given elsewhere)."""
    return {"A": _office("AAA", "Ambon"), "B": _office("BBB", "Bogor")}


def _works_in(user: User, *offices: Office) -> None:
    """``user`` works in exactly these offices."""
    db.session.execute(delete(officer_offices).where(officer_offices.c.user_id == user.id))
    if offices:
        db.session.execute(insert(officer_offices), [{"user_id": user.id, "office_id": o.id} for o in offices])
    db.session.commit()


def _in_office(application: Application, office: Office | None) -> Application:
    """The case and its open tasks in ``office`` (None: no office yet), as the case's step would project it."""
    office_id = office.id if office else None
    db.session.execute(update(Application).where(Application.id == application.id).values(office_id=office_id))
    db.session.execute(update(HumanTask).where(HumanTask.application_id == application.id).values(office_id=office_id))
    db.session.commit()
    return application


def _rows(page: str) -> list[str]:
    if "<tbody>" not in page:
        return []
    return re.findall(r'<span class="font-monospace">([^<]+)</span>', page.split("<tbody>")[1].split("</tbody>")[0])


def _options(page: str, facet: str) -> list[str]:
    select_ = re.search(rf'<select[^>]*name="{facet}"(.*?)</select>', page, re.S)
    assert select_, f"no filter {facet}"
    return [v for v in re.findall(r'<option value="([^"]*)"', select_.group(1)) if v]


def test_an_officer_sees_her_offices_tasks_only_counts_and_searches_included(
    users: dict[str, Any], login_as: Any, offices: dict[str, Office]
) -> None:
    ambon = _in_office(start_until_verification(users), offices["A"])
    bogor = _in_office(start_until_verification(users), offices["B"])
    nowhere = _in_office(start_until_verification(users), None)
    _works_in(users["verifier"], offices["A"])
    _works_in(users["verifier2"], offices["B"])
    vera = login_as(users["verifier"])
    page = vera.get("/officer/").get_data(as_text=True)
    assert _rows(page) == [ambon.reference]
    assert filter_count(page, "claim", "any") == 1 and filter_count(page, "claim", "unclaimed") == 1
    assert filter_count(page, "type", "worker") == 1 and filter_count(page, "step", "verify_documents") == 1
    assert filter_count(page, "due", "any") == 1
    assert _options(page, "office") == ["AAA"]  # only her offices are offered
    # Another office's case is not found by any key, nor listed by choosing its office.
    assert _rows(vera.get(f"/officer/?q={bogor.reference}").get_data(as_text=True)) == []
    for shared in ("FZ1234567", "ana lima"):  # both cases' passport number and name: hers only
        assert _rows(vera.get("/officer/", query_string={"q": shared}).get_data(as_text=True)) == [ambon.reference]
    refused = vera.get("/officer/?office=BBB")
    assert refused.status_code == 400 and 'data-testid="inbox-problem"' in refused.get_data(as_text=True)
    assert _rows(refused.get_data(as_text=True)) == [ambon.reference]
    victor = login_as(users["verifier2"])
    assert _rows(victor.get("/officer/").get_data(as_text=True)) == [bogor.reference]
    # The supervisor's team view is scoped the same way; a case of no office is for admins only.
    _works_in(users["supervisor"], offices["B"])
    team = login_as(users["supervisor"]).get("/officer/?scope=team").get_data(as_text=True)
    assert _rows(team) == [bogor.reference] and filter_count(team, "claim", "any") == 1
    assert nowhere.reference not in vera.get("/officer/").get_data(as_text=True)


def test_an_officer_without_an_office_sees_nothing_and_an_admin_sees_everything(
    users: dict[str, Any], login_as: Any, offices: dict[str, Office]
) -> None:
    ambon = _in_office(start_until_verification(users), offices["A"])
    bogor = _in_office(start_until_verification(users), offices["B"])
    nowhere = _in_office(start_until_verification(users), None)
    _works_in(users["verifier"])
    page = login_as(users["verifier"]).get("/officer/").get_data(as_text=True)
    assert _rows(page) == [] and filter_count(page, "claim", "any") == 0
    admin = make_user("admin", "verifier", email="adi@imigrasi.example", name="Adi Admin")
    admin_page = login_as(admin).get("/officer/").get_data(as_text=True)
    assert _rows(admin_page) == [ambon.reference, bogor.reference, nowhere.reference]
    assert filter_count(admin_page, "claim", "any") == 3
    assert {"AAA", "BBB"} <= set(_options(admin_page, "office"))
    assert filter_count(admin_page, "office", "AAA") == 1 and filter_count(admin_page, "office", "BBB") == 1
    offices_shown = re.findall(r'<td data-testid="office">([^<]*)</td>', admin_page)
    assert offices_shown == ["AAA, Ambon", "BBB, Bogor", "—"]
    assert _rows(login_as(admin).get("/officer/?office=BBB").get_data(as_text=True)) == [bogor.reference]
    # The service gives the same answer as the page.
    inbox = officer_inbox(admin, InboxQuery())
    assert [row.reference for row in inbox.page.items] == [ambon.reference, bogor.reference, nowhere.reference]


def test_the_office_filter_its_counts_and_the_office_column(
    users: dict[str, Any], login_as: Any, offices: dict[str, Office], clock: Any
) -> None:
    first = _in_office(start_until_verification(users), offices["A"])
    clock.advance(minutes=1)
    second = _in_office(start_until_verification(users), offices["B"])
    clock.advance(minutes=1)
    third = _in_office(start_until_verification(users), offices["A"])
    _works_in(users["verifier"], offices["A"], offices["B"])
    vera = login_as(users["verifier"])
    page = vera.get("/officer/").get_data(as_text=True)
    assert _rows(page) == [first.reference, second.reference, third.reference]  # both offices, oldest first
    assert filter_count(page, "office", "AAA") == 2 and filter_count(page, "office", "BBB") == 1
    assert re.findall(r'<td data-testid="office">([^<]*)</td>', page) == ["AAA, Ambon", "BBB, Bogor", "AAA, Ambon"]
    chosen = vera.get("/officer/?office=AAA").get_data(as_text=True)
    assert _rows(chosen) == [first.reference, third.reference]
    assert (
        filter_count(chosen, "claim", "any") == 2 and filter_count(chosen, "office", "BBB") == 1
    )  # the other options stay
    assert _rows(vera.get("/officer/?office=BBB&sort=due").get_data(as_text=True)) == [second.reference]
    assert _rows(vera.get("/officer/?office=AAA&claim=mine").get_data(as_text=True)) == []
    # A saved view keeps the office; a saved view of another's office is refused.
    assert vera.post("/officer/filters", data={"name": "Bogor", "query": "office=BBB"}).status_code == 302
    _works_in(users["verifier"], offices["A"])
    refused = vera.post("/officer/filters", data={"name": "x", "query": "office=BBB"}, follow_redirects=True)
    assert "has no choice" in refused.get_data(as_text=True)


def test_the_escalated_filter_and_the_flag_with_its_reason(
    users: dict[str, Any], login_as: Any, offices: dict[str, Office], clock: Any
) -> None:
    late = _in_office(start_until_verification(users), offices["A"])  # verification due in 5 days
    clock.advance(days=3)
    on_time = _in_office(start_until_verification(users), offices["A"])
    elsewhere = _in_office(start_until_verification(users), offices["B"])
    _works_in(users["verifier"], offices["A"])
    clock.advance(days=2, minutes=1)
    assert len(timers.fire_due_timers("test").fired) == 1  # the first case's SLA timer escalates its task
    db.session.expire_all()
    due = db.session.get(HumanTask, _task_id(late))
    assert due is not None and due.escalated_at is not None and due.due_at is not None
    vera = login_as(users["verifier"])
    page = vera.get("/officer/").get_data(as_text=True)
    assert filter_count(page, "due", "escalated") == 1
    flagged = vera.get("/officer/?due=escalated").get_data(as_text=True)
    assert _rows(flagged) == [late.reference]
    body = flagged.split("<tbody>")[1]
    assert 'data-testid="escalated"' in body and "late since" in body
    assert re.search(r"late since [^<]*\d", body)  # the due time it is late since
    unflagged = vera.get(f"/officer/?q={on_time.reference}").get_data(as_text=True)
    assert 'data-testid="escalated"' not in unflagged.split("<tbody>")[1]
    # Another office's escalated task is neither listed nor counted.
    _in_office(late, offices["B"])
    page = vera.get("/officer/?due=escalated").get_data(as_text=True)
    assert _rows(page) == [] and filter_count(page, "due", "escalated") == 0
    assert elsewhere.reference not in page
    users["verifier"].language = "id"
    db.session.commit()
    _in_office(late, offices["A"])
    indonesian = login_as(users["verifier"]).get("/officer/?due=escalated").get_data(as_text=True)
    assert "terlambat sejak" in indonesian.split("<tbody>")[1]


def _task_id(application: Application) -> int:
    task = db.session.scalars(
        db.select(HumanTask).where(
            HumanTask.application_id == application.id, HumanTask.element_id == "verify_documents"
        )
    ).one()
    return task.id
