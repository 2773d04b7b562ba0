"""The sponsor's pages: the applications naming them and the guarantee decision."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import AuditEvent, Notification
from kitas.services import cases
from tests.factories import make_user
from tests.services.helpers import complete
from tests.web.pages import case_of, post_form, task_url

pytestmark = pytest.mark.usefixtures("worker")


def _awaiting_sponsor(users: dict[str, Any]) -> Any:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    return application


def test_sponsor_sees_the_request_and_the_applicants_data(users: dict[str, Any], login_as: Any) -> None:
    application = _awaiting_sponsor(users)
    client = login_as(users["sponsor"])
    listing = client.get("/sponsor/").get_data(as_text=True)
    assert application.reference in listing and "Confirm or decline" in listing
    page = client.get(task_url(application, "sponsor_confirmation", "/sponsor")).get_data(as_text=True)
    assert "Ana Lima" in page and "FZ1234567" in page
    assert "Software Engineer" in page and "RPTKA-2026-00042" in page  # the job they guarantee


def test_decline_needs_a_reason_which_the_applicant_then_sees(users: dict[str, Any], login_as: Any) -> None:
    application = _awaiting_sponsor(users)
    client = login_as(users["sponsor"])
    url = task_url(application, "sponsor_confirmation", "/sponsor")
    response = post_form(client, url, {"sponsor_decision": "decline"})
    assert response.status_code == 422
    assert 'id="sponsor_decline_reason-error"' in response.get_data(as_text=True)
    assert 'value="decline" checked' in response.get_data(as_text=True)
    response = post_form(client, url, {"sponsor_decision": "decline", "sponsor_decline_reason": "Not our employee."})
    assert response.status_code == 302
    assert case_of(users["applicant"]).status == "sponsor_declined"
    page = login_as(users["applicant"]).get(f"/applications/{application.reference}").get_data(as_text=True)
    assert "Not our employee." in page and "Declined by the sponsor" in page


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "unconfirmed"])
def test_another_sponsor_gets_404(users: dict[str, Any], login_as: Any, confirmed: bool) -> None:
    """Another employer's sponsor, with a confirmed address too: only the address rule refuses that one."""
    application = _awaiting_sponsor(users)
    stranger = make_user("sponsor", email="hr@other.co.id", name="Other HR", confirmed=confirmed)
    client = login_as(stranger)
    assert application.reference not in client.get("/sponsor/").get_data(as_text=True)
    url = task_url(application, "sponsor_confirmation", "/sponsor")
    page = client.get(url)
    assert page.status_code == 404 and "Ana Lima" not in page.get_data(as_text=True)
    assert post_form(client, url, {"sponsor_decision": "confirm"}).status_code == 404
    assert case_of(users["applicant"]).status == "awaiting_sponsor"
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert [row.actor_id for row in refused] == [stranger.id, stranger.id]


def test_an_unconfirmed_address_is_nobodys_sponsor(users: dict[str, Any], login_as: Any) -> None:
    """Anyone could register an employer's address; until it is confirmed it opens nothing."""
    users["sponsor"].email_verified_at = None
    db.session.commit()
    application = _awaiting_sponsor(users)
    client = login_as(users["sponsor"])
    assert application.reference not in client.get("/sponsor/").get_data(as_text=True)
    url = task_url(application, "sponsor_confirmation", "/sponsor")
    assert client.get(url).status_code == 404
    assert post_form(client, url, {"sponsor_decision": "confirm"}).status_code == 404
    assert case_of(users["applicant"]).status == "awaiting_sponsor"
    assert not db.session.scalars(select(Notification).where(Notification.user_id == users["sponsor"].id)).all()
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert len(refused) == 2


def test_a_task_of_another_lane_is_refused_and_audited(users: dict[str, Any], login_as: Any) -> None:
    application = _awaiting_sponsor(users)
    client = login_as(users["verifier"])  # officers may see the case, not act as its sponsor
    response = client.get(task_url(application, "sponsor_confirmation", "/officer"))
    assert response.status_code == 403
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).one()
    assert refused.actor_id == users["verifier"].id and "Sponsor lane" in refused.detail["reason"]
