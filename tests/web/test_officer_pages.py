"""The officers' pages: inbox, claims, the task page with the case and its documents, decisions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import AuditEvent
from kitas.services import cases
from tests.services.helpers import complete, start_until_verification
from tests.web.pages import case_of, confirm_answers, good_documents, open_task_row, post_form, task_url
from tests.worker_data import PAYMENT

pytestmark = pytest.mark.usefixtures("worker")


def _table(page: str) -> str:
    """The inbox's rows (the filters above them name the steps too)."""
    return page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""


def _paid_cases(users: dict[str, Any], count: int) -> list[Any]:
    return [start_until_verification(users) for _ in range(count)]


def test_inbox_lists_tasks_of_my_roles_oldest_first_and_pages(users: dict[str, Any], login_as: Any, clock: Any) -> None:
    first = start_until_verification(users)
    clock.advance(hours=1)
    _paid_cases(users, 25)
    client = login_as(users["verifier"])
    page = client.get("/officer/").get_data(as_text=True)
    assert _table(page).count("Verify documents") == 25
    assert first.reference in page.split("<tbody>")[1].split("</tr>")[0]  # oldest first
    assert "Page 1 of 2 (26 in all)" in page
    assert _table(client.get("/officer/?page=2").get_data(as_text=True)).count("Verify documents") == 1
    supervisor_page = login_as(users["supervisor"]).get("/officer/").get_data(as_text=True)
    assert "Verify documents" not in supervisor_page and 'data-testid="inbox-empty"' in supervisor_page


def test_due_times_are_coloured_when_close_or_late(users: dict[str, Any], login_as: Any, clock: Any) -> None:
    start_until_verification(users)
    client = login_as(users["verifier"])
    assert "due-ok" in client.get("/officer/").get_data(as_text=True)
    clock.advance(days=4, hours=12)
    assert "due-soon" in client.get("/officer/").get_data(as_text=True)
    clock.advance(days=1)
    assert "due-late" in client.get("/officer/").get_data(as_text=True)


def test_claim_release_and_someone_elses_claim(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    task = open_task_row(application.id, "verify_documents")
    base = f"/officer/cases/{application.reference}/tasks/{task.task_id}"
    vera = login_as(users["verifier"])
    assert vera.post(base + "/claim").status_code == 302
    assert open_task_row(application.id, "verify_documents").claimed_by_id == users["verifier"].id
    assert "Claimed by me" in vera.get("/officer/?mine=1").get_data(as_text=True)
    victor = login_as(users["verifier2"])
    response = victor.post(base + "/claim", follow_redirects=True)
    assert "Vera Verifier" in response.get_data(as_text=True) and "claimed this task" in response.get_data(as_text=True)
    reason = {"verification_decision": "corrections", "verification_reason": "Stamp page missing."}
    response = post_form(victor, base, {**reason, "interview_required": False})
    assert response.status_code == 409  # the page comes back with the message and Victor's reason kept
    assert "claimed by Vera Verifier" in response.get_data(as_text=True)
    assert "Stamp page missing." in response.get_data(as_text=True)
    assert open_task_row(application.id, "verify_documents").draft is None  # Vera's task keeps no stranger's draft
    response = post_form(victor, base, reason, action="save")
    assert response.status_code == 409 and "your draft was not saved" in response.get_data(as_text=True)
    assert victor.post(base + "/release").status_code == 403
    vera = login_as(users["verifier"])
    assert vera.post(base + "/release").status_code == 302
    assert open_task_row(application.id, "verify_documents").claimed_by_id is None
    actions = [row.action for row in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("task_claimed") == 1 and actions.count("task_released") == 1


def _paid_case_with_uploaded_documents(users: dict[str, Any], login_as: Any) -> Any:
    application = cases.start_case("worker", users["applicant"])
    for element_id, user in (
        ("applicant_data", "applicant"),
        ("employment_data", "applicant"),
        ("sponsor_confirmation", "sponsor"),
    ):
        complete(application.id, element_id, users[user])
    client = login_as(users["applicant"])
    response = post_form(client, task_url(application, "document_checklist"), good_documents())
    assert response.status_code == 302
    confirm_answers(client, application, "document_checklist")
    return cases.deliver_message(application.id, "payment_received", PAYMENT, actor="test-bank")


def test_task_page_shows_applicant_data_documents_and_decision_form(users: dict[str, Any], login_as: Any) -> None:
    application = _paid_case_with_uploaded_documents(users, login_as)
    client = login_as(users["verifier"])
    page = client.get(task_url(application, "verify_documents", "/officer")).get_data(as_text=True)
    assert "Ana Lima" in page and "FZ1234567" in page and "Acme Ltda" in page
    assert 'name="verification_decision"' in page and "Ask the applicant for corrections" in page
    assert "Applicant: <strong>Ana Applicant</strong>" in page
    # The four PDFs' pages as pictures rendered on the server (every browser shows them), the two images as they are.
    pages = re.findall(r'<img class="d-block w-100 mb-1 bg-white" src="([^"]+)"', page)
    assert len({address.rsplit("/pages/", 1)[0] for address in pages}) == 4  # every page of each
    assert len(pages) == 5 and sum(address.endswith("/pages/2.png") for address in pages) == 1
    assert page.count("data-rotatable") == 2  # the JPEG photo and the PNG letter turn and zoom
    response = client.get(next(address for address in pages if address.endswith("/pages/2.png")))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n")


def test_corrections_need_a_reason_and_reach_the_applicant(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    client = login_as(users["verifier"])
    url = task_url(application, "verify_documents", "/officer")
    assert client.post(url + "/claim").status_code == 302  # "Start working on this"
    response = post_form(client, url, {"verification_decision": "corrections", "interview_required": False})
    assert response.status_code == 422
    assert 'id="verification_reason-error"' in response.get_data(as_text=True)
    response = post_form(
        client,
        url,
        {"verification_decision": "corrections", "interview_required": False, "verification_reason": "Photo too dark."},
    )
    assert response.status_code == 302
    assert case_of(users["applicant"]).status == "correction_requested"


def test_completed_task_says_who_was_first(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    url = task_url(application, "verify_documents", "/officer")
    complete(application.id, "verify_documents", users["verifier"])
    client = login_as(users["verifier2"])
    response = post_form(client, url, {"verification_decision": "approve", "interview_required": False})
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already completed by Vera Verifier" in followed
    assert client.get(url).status_code == 409


def test_full_approval_through_the_pages(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    verifier = login_as(users["verifier"])
    verifier.post(task_url(application, "verify_documents", "/officer") + "/claim")
    post_form(
        verifier,
        task_url(application, "verify_documents", "/officer"),
        {"verification_decision": "approve", "interview_required": False},
    )
    supervisor = login_as(users["supervisor"])
    assert "Approve application" in supervisor.get("/officer/").get_data(as_text=True)
    supervisor.post(task_url(application, "supervisor_approval", "/officer") + "/claim")
    response = post_form(
        supervisor, task_url(application, "supervisor_approval", "/officer"), {"approval_decision": "approve"}
    )
    assert response.status_code == 302
    assert case_of(users["applicant"]).status == "biometrics_appointment"


def test_applicants_and_anonymous_visitors_stay_out(users: dict[str, Any], login_as: Any, client: Any) -> None:
    assert client.get("/officer/").status_code == 302
    assert "/auth/login" in client.get("/officer/").headers["Location"]
    assert login_as(users["applicant"]).get("/officer/").status_code == 403


def test_officers_see_uploads_and_claims_in_the_history_applicants_do_not(users: dict[str, Any], login_as: Any) -> None:
    application = _paid_case_with_uploaded_documents(users, login_as)
    url = task_url(application, "verify_documents", "/officer")
    officer = login_as(users["verifier"])
    officer.post(url + "/claim")
    history = officer.get(url).get_data(as_text=True)
    assert "Document uploaded: Passport (all pages with stamps)" in history
    assert "Task claimed: Verify documents" in history
    status = login_as(users["applicant"]).get(f"/applications/{application.reference}").get_data(as_text=True)
    assert "Upload documents: done" in status and "Payment received" in status
    assert "Document uploaded" not in status and "Task claimed" not in status


def test_the_form_is_active_only_for_the_officer_working_on_the_task(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    url = task_url(application, "verify_documents", "/officer")
    vera = login_as(users["verifier"])
    page = vera.get(url).get_data(as_text=True)
    assert 'data-testid="start-working"' in page and "Start working on this" in page
    assert 'data-testid="task-form-read-only"' in page and 'data-testid="task-form"' not in page
    refused = post_form(vera, url, {"verification_decision": "approve", "interview_required": False})
    assert refused.status_code == 409 and "Start working on this" in refused.get_data(as_text=True)
    assert open_task_row(application.id, "verify_documents").draft is None
    started = vera.post(url + "/claim", follow_redirects=True).get_data(as_text=True)
    assert 'data-testid="task-form"' in started and "You are working on this task" in started
    victor = login_as(users["verifier2"])
    other = victor.get(url).get_data(as_text=True)
    assert 'data-testid="task-form-read-only"' in other and 'data-testid="start-working"' not in other
    assert "Vera Verifier is working on this task" in other
    assert "Vera Verifier" in victor.get("/officer/").get_data(as_text=True).split("<tbody>")[1]


def test_a_supervisor_gives_a_task_to_an_officer_and_takes_it_back_on_the_page(
    users: dict[str, Any], login_as: Any
) -> None:
    application = start_until_verification(users)
    url = task_url(application, "verify_documents", "/officer")
    sam = login_as(users["supervisor"])
    page = sam.get(url).get_data(as_text=True)
    assert 'data-testid="assign"' in page and "Victor Verifier" in page
    assert sam.post(url + "/assign", data={"officer": users["verifier2"].id}).status_code == 302
    assert open_task_row(application.id, "verify_documents").claimed_by_id == users["verifier2"].id
    page = sam.get(url).get_data(as_text=True)
    assert "Victor Verifier is working on this task" in page and 'data-testid="take-back"' in page
    refused = sam.post(url + "/assign", data={"officer": users["applicant"].id}, follow_redirects=True)
    assert "no active officer with the role verifier" in refused.get_data(as_text=True)
    assert sam.post(url + "/take-back").status_code == 302
    assert open_task_row(application.id, "verify_documents").claimed_by_id is None
    history = login_as(users["verifier"]).get(f"/officer/cases/{application.reference}").get_data(as_text=True)
    assert "Task given to Victor Verifier" in history and "Task taken back from Victor Verifier" in history
    assert login_as(users["verifier"]).post(url + "/assign", data={"officer": users["verifier"].id}).status_code == 403
