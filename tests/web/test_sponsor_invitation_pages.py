"""The pages of an invitation to a sponsor without an account: the link's sign-up, its refusals, the
applicant's status page (resend, correct) and the sponsor's list after deciding."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, User
from kitas.services import cases
from kitas.services.accounts import tokens
from kitas.services.cases import timers
from tests.services.helpers import complete
from tests.web.pages import invitation_path, task_url

pytestmark = pytest.mark.usefixtures("worker")

NEW_SPONSOR = "hr@new-employer.co.id"
PASSWORD = "correct horse battery staple"


def _waiting(users: dict[str, Any], sponsor_email: str = NEW_SPONSOR) -> Application:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    return complete(application.id, "employment_data", users["applicant"], sponsor_email=sponsor_email)


def _sign_up(client: FlaskClient, path: str, **overrides: str) -> Any:
    form = {
        "full_name": "Hana Human Resources",
        "phone": "+62 812 3456 7890",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "consent": "1",
    } | overrides
    return client.post(path, data=form)


def test_the_link_signs_up_the_sponsor_who_then_sees_and_answers_the_case(
    users: dict[str, Any], client: FlaskClient, smtp_server: list[Any]
) -> None:
    application = _waiting(users)
    path = invitation_path(smtp_server, NEW_SPONSOR)
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and NEW_SPONSOR in text and application.reference in text
    assert "Ana Applicant" in text and "readonly" in text
    refused = _sign_up(client, path, password_confirm="something else entirely")
    assert refused.status_code == 422 and "not the same" in refused.get_data(as_text=True)
    assert db.session.scalars(select(User).where(User.email == NEW_SPONSOR)).first() is None
    response = _sign_up(client, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sponsor/")
    sponsor = db.session.scalars(select(User).where(User.email == NEW_SPONSOR)).one()
    assert sponsor.email_verified_at is not None and sponsor.has_role("sponsor")
    listing = client.get("/sponsor/").get_data(as_text=True)  # signed in by the sign-up
    assert application.reference in listing and "Confirm or decline" in listing
    url = task_url(application, "sponsor_confirmation", "/sponsor")
    assert client.post(url, data={"sponsor_decision": "confirm"}).status_code == 302
    listing = client.get("/sponsor/").get_data(as_text=True)
    assert application.reference in listing and "Confirmed on " in listing
    # Used twice: a clear page, which sends them to sign in.
    client.post("/auth/logout")
    again = client.get(path)
    assert again.status_code == 400
    text = again.get_data(as_text=True)
    assert "This link does not work" in text and "already used" in text and 'data-testid="invitation-sign-in"' in text


def test_a_replaced_expired_or_damaged_link_gets_a_clear_page(
    users: dict[str, Any], client: FlaskClient, clock: Any, login_as: Any
) -> None:
    application = _waiting(users, sponsor_email="hr@typo.co.id")
    stale = tokens.sponsor_invitation_token(application.id, "hr@typo.co.id")
    applicant = login_as(users["applicant"])
    applicant.post(f"/applications/{application.reference}/sponsor/email", data={"sponsor_email": NEW_SPONSOR})
    applicant.post("/auth/logout")
    for token, words in (
        (stale, "the applicant named another address"),
        ("not-a-token", "damaged or not one of ours"),
    ):
        page = client.get(f"/auth/invitation/{token}")
        assert page.status_code == 400 and words in page.get_data(as_text=True)
        assert _sign_up(client, f"/auth/invitation/{token}").status_code == 400
    fresh = tokens.sponsor_invitation_token(application.id, NEW_SPONSOR)
    clock.advance(days=14, seconds=1)
    page = client.get(f"/auth/invitation/{fresh}")
    assert page.status_code == 400 and "more than 14 days old" in page.get_data(as_text=True)
    assert db.session.scalars(select(User).where(User.email.in_([NEW_SPONSOR, "hr@typo.co.id"]))).first() is None


def test_the_refusal_page_in_indonesian(users: dict[str, Any], client: FlaskClient) -> None:
    page = client.get("/auth/invitation/not-a-token", headers={"Accept-Language": "id"})
    assert page.status_code == 400 and "Tautan undangan ini rusak" in page.get_data(as_text=True)


def test_the_status_page_shows_the_invitation_resends_it_within_the_limit_and_corrects_it(
    users: dict[str, Any], login_as: Any, clock: Any
) -> None:
    application = _waiting(users)
    client = login_as(users["applicant"])
    url = f"/applications/{application.reference}"
    page = client.get(url).get_data(as_text=True)
    assert f"Invitation sent to {NEW_SPONSOR}, on " in page and 'data-testid="resend-invitation"' in page
    clock.advance(minutes=5)
    for _ in range(2):
        response = client.post(f"{url}/sponsor/resend")
        assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "The invitation was sent again to" in page and 'data-testid="resend-limit"' in page
    assert 'data-testid="resend-invitation"' not in page
    client.post(f"{url}/sponsor/resend")
    assert "3 times in the last 24 hours" in client.get(url).get_data(as_text=True)
    # A correction is an invitation too, so it waits for the limit as well.
    clock.advance(hours=24)
    response = client.post(f"{url}/sponsor/email", data={"sponsor_email": "not an address"})
    # Refused on the page itself: the address as typed, what is wrong next to the field, nothing sent.
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'data-testid="error-sponsor_email"' in page
    assert "This is not an e-mail address" in page and 'value="not an address"' in page
    assert 'aria-invalid="true"' in page
    client.post(f"{url}/sponsor/email", data={"sponsor_email": "hr@right-employer.co.id"})
    page = client.get(url).get_data(as_text=True)
    assert "now asks hr@right-employer.co.id" in page
    assert "Invitation sent to hr@right-employer.co.id, on " in page
    assert "Sponsor&#39;s e-mail address corrected to hr@right-employer.co.id" in page  # the timeline
    assert db.session.get(Application, application.id).sponsor_email == "hr@right-employer.co.id"


def test_the_status_page_in_indonesian(users: dict[str, Any], login_as: Any) -> None:
    application = _waiting(users)
    users["applicant"].language = "id"  # a signed-in person reads their own language
    db.session.commit()
    page = login_as(users["applicant"]).get(f"/applications/{application.reference}")
    assert f"Undangan dikirim ke {NEW_SPONSOR}, pada " in page.get_data(as_text=True)


def test_only_the_applicant_corrects_the_address(users: dict[str, Any], login_as: Any) -> None:
    application = _waiting(users)
    other = login_as(users["other_applicant"])
    response = other.post(f"/applications/{application.reference}/sponsor/email", data={"sponsor_email": "x@y.co.id"})
    assert response.status_code == 404
    assert db.session.get(Application, application.id).sponsor_email == NEW_SPONSOR


def test_after_the_deadline_the_status_page_says_expired(users: dict[str, Any], login_as: Any, clock: Any) -> None:
    application = _waiting(users)
    clock.advance(days=14, seconds=1)
    timers.fire_due_timers("test")
    page = login_as(users["applicant"]).get(f"/applications/{application.reference}").get_data(as_text=True)
    assert "Expired" in page and "Sponsor did not answer (14 days)" in page
    assert 'data-testid="sponsor-invitation"' not in page


def test_the_sponsor_list_says_declined_on_a_date(users: dict[str, Any], login_as: Any) -> None:
    application = _waiting(users, sponsor_email="hr@employer.co.id")
    complete(
        application.id,
        "sponsor_confirmation",
        users["sponsor"],
        sponsor_decision="decline",
        sponsor_decline_reason="Not our employee",
    )
    listing = login_as(users["sponsor"]).get("/sponsor/").get_data(as_text=True)
    assert application.reference in listing and "Declined on " in listing
    users["sponsor"].language = "id"
    db.session.commit()
    listing = login_as(users["sponsor"]).get("/sponsor/").get_data(as_text=True)
    assert "Ditolak pada " in listing
