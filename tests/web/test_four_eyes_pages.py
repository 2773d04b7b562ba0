"""Four eyes and the send back, through the officers' pages: the officer who verified a case cannot approve it
(claim, assignment, decision), another supervisor can; a supervisor sends a case back to verification with a
reason the verifier then reads."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import AuditEvent
from tests.factories import make_user
from tests.services.helpers import complete, start_until_verification
from tests.web.pages import case_of, open_task_row, post_form, task_url

pytestmark = pytest.mark.usefixtures("worker")

FOUR_EYES = "You verified this case; another supervisor must approve it (four eyes)"
REASON = "The passport number on the scan differs from the form."


@pytest.fixture()
def dora() -> Any:
    """An officer who is both verifier and supervisor (a small office)."""
    person = make_user("verifier", "supervisor", email="dora@imigrasi.example", name="Dora Dual")
    person.email_verified_at = person.created_at
    db.session.commit()
    return person


def _radios(page: str) -> str:
    """The decision's choices as the form shows them."""
    return " ".join(re.findall(r'<input[^>]*name="approval_decision"[^>]*>', page))


def _verified_by(users: dict[str, Any], verifier: Any) -> Any:
    application = start_until_verification(users)
    complete(application.id, "verify_documents", verifier)
    assert open_task_row(application.id, "supervisor_approval")
    return application


def test_the_officer_who_verified_cannot_claim_be_given_or_decide_the_approval(
    users: dict[str, Any], login_as: Any, dora: Any
) -> None:
    application = _verified_by(users, dora)
    url = task_url(application, "supervisor_approval", "/officer")
    client = login_as(dora)
    page = client.get(url).get_data(as_text=True)
    assert FOUR_EYES in page and 'data-testid="four-eyes"' in page
    assert 'data-testid="start-working"' not in page  # no claim offered
    assert 'data-testid="task-form-read-only"' in page and 'data-testid="task-form"' not in page
    refused = client.post(url + "/claim", follow_redirects=True).get_data(as_text=True)
    assert "You cannot claim this task: " + FOUR_EYES in refused
    assert open_task_row(application.id, "supervisor_approval").claimed_by_id is None
    decided = post_form(client, url, {"approval_decision": "approve"})
    assert decided.status_code == 409 and FOUR_EYES in decided.get_data(as_text=True)
    assert case_of(users["applicant"]).status == "awaiting_approval"
    # A supervisor cannot hand it to her either, and is told why.
    sam = login_as(users["supervisor"])
    offered = sam.get(url).get_data(as_text=True).split('data-testid="assign"')[1].split("</form>")[0]
    assert "Dora Dual" not in offered and "Sam Supervisor" in offered  # she is not offered
    given = sam.post(url + "/assign", data={"officer": dora.id}, follow_redirects=True).get_data(as_text=True)
    assert "Dora Dual verified this case; another supervisor must approve it (four eyes)" in given
    assert open_task_row(application.id, "supervisor_approval").claimed_by_id is None
    # Another supervisor approves.
    assert sam.post(url + "/claim").status_code == 302
    assert post_form(sam, url, {"approval_decision": "approve"}).status_code == 302
    assert case_of(users["applicant"]).status == "biometrics_appointment"


def test_an_officer_who_did_not_verify_approves_as_before(users: dict[str, Any], login_as: Any, dora: Any) -> None:
    application = _verified_by(users, users["verifier"])
    url = task_url(application, "supervisor_approval", "/officer")
    client = login_as(dora)
    page = client.get(url).get_data(as_text=True)
    assert FOUR_EYES not in page and 'data-testid="start-working"' in page
    assert client.post(url + "/claim").status_code == 302
    assert post_form(client, url, {"approval_decision": "approve"}).status_code == 302
    assert case_of(users["applicant"]).status == "biometrics_appointment"


def test_the_four_eyes_refusal_reads_in_indonesian(users: dict[str, Any], login_as: Any, dora: Any) -> None:
    application = _verified_by(users, dora)
    client = login_as(dora)
    client.post("/language", data={"language": "id"})
    page = client.get(task_url(application, "supervisor_approval", "/officer")).get_data(as_text=True)
    assert FOUR_EYES not in page and "empat mata" in page


def test_send_back_needs_a_reason_then_the_verifier_reads_it(users: dict[str, Any], login_as: Any) -> None:
    application = _verified_by(users, users["verifier"])
    url = task_url(application, "supervisor_approval", "/officer")
    sam = login_as(users["supervisor"])
    page = sam.get(url).get_data(as_text=True)
    assert "Send the case back to verification" in page
    assert sam.post(url + "/claim").status_code == 302
    refused = post_form(sam, url, {"approval_decision": "send_back", "send_back_reason": ""})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="send_back_reason-error"' in body
    assert 'value="send_back" checked' in _radios(body)  # the choice is kept
    assert case_of(users["applicant"]).status == "awaiting_approval"
    assert post_form(sam, url, {"approval_decision": "send_back", "send_back_reason": REASON}).status_code == 302
    assert case_of(users["applicant"]).status == "in_verification"
    # In a verifier's inbox again, with the supervisor's reason on the task page.
    victor = login_as(users["verifier2"])
    inbox = victor.get("/officer/").get_data(as_text=True)
    assert application.reference in inbox and "Verify documents" in inbox
    verify = task_url(application, "verify_documents", "/officer")
    page = victor.get(verify).get_data(as_text=True)
    assert 'data-testid="sent-back"' in page and "Sent back by the supervisor:" in page and REASON in page
    history = victor.get(f"/officer/cases/{application.reference}").get_data(as_text=True)
    assert "Sent back to verification by the supervisor: " + REASON in history
    # The applicant reads neither the reason nor that event.
    status = login_as(users["applicant"]).get(f"/applications/{application.reference}").get_data(as_text=True)
    assert REASON not in status
    kinds = db.session.scalars(select(AuditEvent.action).where(AuditEvent.application_id == application.id)).all()
    assert kinds.count("sent_back_to_verification") == 1
    # The second round: Victor verifies, both verifiers are kept from the approval, Sam decides afresh.
    complete(application.id, "verify_documents", users["verifier2"])
    sam = login_as(users["supervisor"])
    page = sam.get(task_url(application, "supervisor_approval", "/officer")).get_data(as_text=True)
    assert 'value="send_back" checked' not in page and " checked" not in _radios(page)
    assert re.search(r'name="send_back_reason"[^>]*></textarea>', page)  # empty
    assert 'data-testid="sent-back"' in page  # the supervisor sees the earlier reason above the case
    url = task_url(application, "supervisor_approval", "/officer")
    assert sam.post(url + "/claim").status_code == 302
    assert post_form(sam, url, {"approval_decision": "approve"}).status_code == 302
    assert case_of(users["applicant"]).status == "biometrics_appointment"


def test_the_round_a_case_is_sent_back_to_opens_with_an_empty_decision(users: dict[str, Any], login_as: Any) -> None:
    """The verifier decides afresh: her approval and reason of the round before are not chosen for her."""
    application = start_until_verification(users)
    said = "Checked against the registry."
    complete(application.id, "verify_documents", users["verifier"], verification_reason=said)
    complete(
        application.id,
        "supervisor_approval",
        users["supervisor"],
        approval_decision="send_back",
        send_back_reason=REASON,
    )
    assert case_of(users["applicant"]).status == "in_verification"
    page = (
        login_as(users["verifier2"]).get(task_url(application, "verify_documents", "/officer")).get_data(as_text=True)
    )
    assert REASON in page  # the supervisor's reason is shown
    decisions = re.findall(r'<input[^>]*name="verification_decision"[^>]*>', page)
    assert decisions and not any(" checked" in radio for radio in decisions)
    assert said not in page and re.search(r'<textarea[^>]*name="verification_reason"[^>]*>\s*</textarea>', page)
