"""The officers' inbox: filters, search by each key, sorts, counts, paging past page 1, saved filters and
bad parameters, through the page as an officer uses it (GET parameters, no JavaScript)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, SavedFilter
from kitas.services import cases
from tests.services.helpers import complete, open_task, start_until_verification
from tests.web.pages import filter_count
from tests.worker_data import PAYMENT

pytestmark = pytest.mark.usefixtures("worker")


def _paid_case(users: dict[str, Any], name: str = "Ana Lima", passport: str = "X1234567") -> Application:
    """A worker case waiting for the verifier, whose applicant is ``name`` with ``passport``."""
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"], full_name=name, passport_number=passport)
    complete(application.id, "employment_data", users["applicant"])
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    complete(application.id, "document_checklist", users["applicant"])
    return cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")


def _rows(page: str) -> list[str]:
    """The register numbers of the inbox's rows, in order."""
    if "<tbody>" not in page:
        return []
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<span class="font-monospace">([^<]+)</span>', body)


def test_search_by_register_number_passport_number_and_name(users: dict[str, Any], login_as: Any) -> None:
    maria = _paid_case(users, "María Schmidt-Tanaka", "C9876543")
    john = _paid_case(users, "John Smith", "B1112223")
    client = login_as(users["verifier"])
    assert set(_rows(client.get("/officer/").get_data(as_text=True))) == {maria.reference, john.reference}
    # A register number typed in lower case; a passport number with spaces; part of a name without accents.
    assert _rows(client.get(f"/officer/?q={maria.reference.lower()}").get_data(as_text=True)) == [maria.reference]
    assert _rows(client.get("/officer/?q=c98+765+43&by=passport").get_data(as_text=True)) == [maria.reference]
    assert _rows(client.get("/officer/?q=maria+schmidt&by=name").get_data(as_text=True)) == [maria.reference]
    assert _rows(client.get("/officer/?q=SMITH").get_data(as_text=True)) == [john.reference]
    # Each key searches its own column only.
    assert _rows(client.get("/officer/?q=smith&by=passport").get_data(as_text=True)) == []
    assert _rows(client.get(f"/officer/?q={john.reference}&by=name").get_data(as_text=True)) == []
    page = client.get("/officer/?q=nobody+at+all").get_data(as_text=True)
    assert 'data-testid="inbox-empty"' in page and "No open task matches these filters." in page
    # The row shows the applicant's name from the case (the account holder may be a sponsor).
    assert "John Smith" in client.get(f"/officer/?q={john.reference}").get_data(as_text=True)


def test_claim_filters_and_their_counts(users: dict[str, Any], login_as: Any) -> None:
    mine, theirs, free = (start_until_verification(users) for _ in range(3))
    vera, victor = login_as(users["verifier"]), None
    vera.post(f"/officer/cases/{mine.reference}/tasks/{open_task(mine.id, 'verify_documents').task_id}/claim")
    victor = login_as(users["verifier2"])
    victor.post(f"/officer/cases/{theirs.reference}/tasks/{open_task(theirs.id, 'verify_documents').task_id}/claim")
    vera = login_as(users["verifier"])
    page = vera.get("/officer/").get_data(as_text=True)
    counts = {value: filter_count(page, "claim", value) for value in ("any", "mine", "unclaimed", "others")}
    assert counts == {"any": 3, "mine": 1, "unclaimed": 1, "others": 1}
    assert _rows(vera.get("/officer/?claim=mine").get_data(as_text=True)) == [mine.reference]
    assert _rows(vera.get("/officer/?claim=unclaimed").get_data(as_text=True)) == [free.reference]
    others = vera.get("/officer/?claim=others").get_data(as_text=True)
    assert _rows(others) == [theirs.reference]
    assert "Victor Verifier" in others.split("<tbody>")[1]  # the claimant is shown to everyone
    # Counts of the other filters follow the chosen one: of the unclaimed tasks, one is at this step.
    assert filter_count(vera.get("/officer/?claim=unclaimed").get_data(as_text=True), "step", "verify_documents") == 1
    # "Claimed by others" reads claimants below and above the reader: Victor sees Vera's claim there.
    victor = login_as(users["verifier2"])
    assert users["verifier"].id < users["verifier2"].id
    assert _rows(victor.get("/officer/?claim=others").get_data(as_text=True)) == [mine.reference]
    assert filter_count(victor.get("/officer/").get_data(as_text=True), "claim", "others") == 1


def test_due_filters_sort_by_due_or_age_and_step_filter(users: dict[str, Any], login_as: Any, clock: Any) -> None:
    old = start_until_verification(users)  # verification is due in 5 days
    complete(old.id, "verify_documents", users["verifier"])  # -> the supervisor's approval, due in 3 days
    clock.advance(days=1)
    newer = start_until_verification(users)  # due in 5 days, after the approval's due time
    clock.advance(days=1, hours=12)
    supervisor = login_as(users["supervisor"])
    team = supervisor.get("/officer/?scope=team").get_data(as_text=True)
    assert _rows(team) == [old.reference, newer.reference]  # oldest first
    assert (
        filter_count(team, "step", "verify_documents") == 1 and filter_count(team, "step", "supervisor_approval") == 1
    )
    assert _rows(supervisor.get("/officer/?scope=team&step=verify_documents").get_data(as_text=True)) == [
        newer.reference
    ]
    assert _rows(supervisor.get("/officer/").get_data(as_text=True)) == [old.reference]  # own lane only
    # The approval (due 3 days after day 0) is due within a day at day 2.5; the verification is not.
    assert _rows(supervisor.get("/officer/?scope=team&due=soon").get_data(as_text=True)) == [old.reference]
    assert _rows(supervisor.get("/officer/?scope=team&due=late").get_data(as_text=True)) == []
    clock.advance(days=1)
    late = supervisor.get("/officer/?scope=team&due=late").get_data(as_text=True)
    assert _rows(late) == [old.reference] and "(late)" in late
    clock.advance(days=3)
    assert _rows(supervisor.get("/officer/?scope=team&sort=due").get_data(as_text=True)) == [
        old.reference,
        newer.reference,
    ]
    assert filter_count(supervisor.get("/officer/?scope=team").get_data(as_text=True), "due", "late") == 2


def test_sort_by_due_puts_the_soonest_first_even_when_opened_later(
    users: dict[str, Any], login_as: Any, clock: Any
) -> None:
    verification = start_until_verification(users)  # opened at day 0, due day 5
    clock.advance(days=1)
    approval = start_until_verification(users)
    complete(approval.id, "verify_documents", users["verifier"])  # opened day 1, due day 4
    supervisor = login_as(users["supervisor"])
    assert _rows(supervisor.get("/officer/?scope=team").get_data(as_text=True)) == [
        verification.reference,
        approval.reference,
    ]
    assert _rows(supervisor.get("/officer/?scope=team&sort=due").get_data(as_text=True)) == [
        approval.reference,
        verification.reference,
    ]


def test_type_and_index_filters(users: dict[str, Any], login_as: Any) -> None:
    worker = start_until_verification(users)
    client = login_as(users["verifier"])
    assert _rows(client.get("/officer/?type=worker").get_data(as_text=True)) == [worker.reference]
    assert _rows(client.get("/officer/?index=E23").get_data(as_text=True)) == [worker.reference]
    empty = client.get("/officer/?type=family").get_data(as_text=True)
    assert _rows(empty) == [] and "No open task matches these filters." in empty
    assert filter_count(empty, "type", "worker") == 1 and filter_count(empty, "type", "family") == 0
    assert _rows(client.get("/officer/?type=worker&index=E31A").get_data(as_text=True)) == []


def test_paging_beyond_page_one_keeps_the_filters(users: dict[str, Any], login_as: Any, clock: Any) -> None:
    made = []
    for _ in range(27):
        made.append(start_until_verification(users))
        clock.advance(minutes=1)
    client = login_as(users["verifier"])
    first = client.get("/officer/?claim=unclaimed").get_data(as_text=True)
    assert _rows(first) == [a.reference for a in made[:25]]
    assert "Page 1 of 2 (27 in all)" in first
    assert 'href="/officer/?page=2&amp;claim=unclaimed"' in first  # the pager keeps the filter
    second = client.get("/officer/?claim=unclaimed&page=2").get_data(as_text=True)
    assert _rows(second) == [a.reference for a in made[25:]]
    assert "Page 2 of 2 (27 in all)" in second


def test_a_page_past_the_last_shows_the_last_page_not_an_empty_inbox(users: dict[str, Any], login_as: Any) -> None:
    """The bug: ?page=2 said "No open tasks" while the inbox had tasks (a bookmark, or a page that
    emptied as colleagues worked). Now the last page is shown, and the page says so."""
    application = start_until_verification(users)
    client = login_as(users["verifier"])
    page = client.get("/officer/?page=2").get_data(as_text=True)
    assert _rows(page) == [application.reference]
    assert 'data-testid="page-moved"' in page and "No open tasks" not in page


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=0",
        "page=-3",
        "page=1.5",
        "claim=everyone",
        "due=tomorrow",
        "sort=name",
        "type=nope",
        "index=Z99",
        "by=email",
        "scope=all",
        "step=%3Cscript%3E",
    ],
)
def test_bad_parameters_give_a_clear_page(users: dict[str, Any], login_as: Any, query: str) -> None:
    application = start_until_verification(users)
    response = login_as(users["verifier"]).get(f"/officer/?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-testid="inbox-problem"' in page and "<script>" not in page
    assert _rows(page) == [application.reference]  # the rest of the view still works


def test_bad_parameters_read_in_indonesian(users: dict[str, Any], login_as: Any) -> None:
    start_until_verification(users)
    users["verifier"].language = "id"
    db.session.commit()
    page = login_as(users["verifier"]).get("/officer/?page=abc").get_data(as_text=True)
    assert "Tidak ada halaman" in page and "Kotak tugas" in page


def test_saved_filters_per_officer(users: dict[str, Any], login_as: Any) -> None:
    start_until_verification(users)
    vera = login_as(users["verifier"])
    response = vera.post("/officer/filters", data={"name": "  Late  work ", "query": "type=worker&due=late&sort=due"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/officer/?type=worker&due=late&sort=due"
    )
    page = vera.get("/officer/").get_data(as_text=True)
    assert 'href="/officer/?type=worker&amp;due=late&amp;sort=due">Late work</a>' in page
    # The same name replaces the view; a bad view or a missing name is refused with a message.
    vera.post("/officer/filters", data={"name": "Late work", "query": "due=late"})
    [saved] = db.session.scalars(select(SavedFilter)).all()
    assert (saved.name, saved.query) == ("Late work", "due=late")
    refused = vera.post("/officer/filters", data={"name": "x", "query": "claim=everyone"}, follow_redirects=True)
    assert "has no choice" in refused.get_data(as_text=True)
    refused = vera.post("/officer/filters", data={"name": " ", "query": "due=late"}, follow_redirects=True)
    assert "Give the filter a name" in refused.get_data(as_text=True)
    assert len(db.session.scalars(select(SavedFilter)).all()) == 1
    # Another officer sees none of them and cannot delete them.
    victor = login_as(users["verifier2"])
    assert "Late work" not in victor.get("/officer/").get_data(as_text=True)
    assert victor.post(f"/officer/filters/{saved.id}/delete").status_code == 404
    vera = login_as(users["verifier"])
    assert vera.post(f"/officer/filters/{saved.id}/delete").status_code == 302
    assert db.session.scalars(select(SavedFilter)).all() == []


def test_search_columns_follow_the_case_data(users: dict[str, Any]) -> None:
    """The unit of work projects the name and passport number from the case data at each save."""
    application = _paid_case(users, "  Siti   Nurhaliza ", "A1234567")
    db.session.expire_all()
    row = db.session.get(Application, application.id)
    assert row is not None
    assert (row.applicant_name, row.name_search, row.passport_number, row.index_code) == (
        "Siti Nurhaliza",
        "siti nurhaliza",
        "A1234567",
        "E23",
    )
