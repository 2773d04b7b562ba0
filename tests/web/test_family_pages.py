"""The family KITAS through the pages: the checklist asks for the sponsor's permit exactly for E31B, the
relation decides who may sponsor, and the family member confirms from their own account (invited when
they have none yet)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, Document, HumanTask, Reminder, User
from kitas.services import cases, reminders
from kitas.services.cases import invitations, listings
from kitas.services.errors import InvalidInput
from tests.factories import make_office, make_slot
from tests.family_data import APPLICANT_DATA, MEMBER_DATA, PAYMENT, PERMIT_HOLDER
from tests.family_data import form_data as family_form
from tests.services.helpers import start_working
from tests.uploads import jpeg_bytes, pdf_bytes, png_bytes
from tests.web.pages import case_of, confirm_answers, form_errors, invitation_path, post_form, task_url

pytestmark = pytest.mark.usefixtures("family")

FAMILY_MEMBER = "budi.santoso@example.id"
PASSWORD = "rendang sambal kerupuk 77"


def _documents(with_permit: bool) -> dict[str, tuple[str, bytes]]:
    files = {
        "passport_scan": ("passport.pdf", pdf_bytes()),
        "photo": ("photo.jpg", jpeg_bytes()),
        "civil_certificate": ("marriage.pdf", pdf_bytes(2)),
        "sponsor_ktp": ("ktp.png", png_bytes()),
        "sponsor_kk": ("kk.pdf", pdf_bytes()),
    }
    if with_permit:
        files["sponsor_permit"] = ("kitas.pdf", pdf_bytes())
    return files


def _apply(client: FlaskClient, applicant: User, index_code: str, sponsor_email: str) -> Application:
    """Start a family case on the dashboard's button and fill the applicant's three steps."""
    response = client.post("/applications/new/family", data={"index_code": index_code})
    assert response.status_code == 302, response.get_data(as_text=True)
    application = case_of(applicant)
    assert post_form(client, task_url(application, "family_relation"), {"index_code": index_code}).status_code == 302
    assert post_form(client, task_url(application, "family_applicant_data"), APPLICANT_DATA).status_code == 302
    member = {**MEMBER_DATA, **(PERMIT_HOLDER if index_code == "E31B" else {}), "sponsor_email": sponsor_email}
    member = {key: value for key, value in member.items() if value is not None}
    response = post_form(client, task_url(application, "family_member_data"), member)
    assert response.status_code == 302, form_errors(response)
    confirm_answers(client, application, "family_member_data")
    db.session.refresh(application)
    assert application.status == "awaiting_sponsor" and application.sponsor_email == sponsor_email
    return application


def _sponsor_confirms(client: FlaskClient, application: Application) -> None:
    url = task_url(application, "family_sponsor_confirmation", "/sponsor")
    page = client.get(url)
    assert page.status_code == 200 and MEMBER_DATA["civil_document_number"] in page.get_data(as_text=True)
    assert client.post(url, data={"sponsor_decision": "confirm"}).status_code == 302


@pytest.mark.parametrize(("index_code", "asked"), [("E31A", False), ("E31B", True), ("E31C", False)])
def test_the_sponsors_permit_is_required_exactly_for_the_spouse_of_a_permit_holder(
    users: dict[str, Any], client: FlaskClient, login_as: Any, index_code: str, asked: bool
) -> None:
    login_as(users["applicant"])
    application = _apply(client, users["applicant"], index_code, users["sponsor"].email)
    login_as(users["sponsor"])
    _sponsor_confirms(client, application)
    login_as(users["applicant"])
    url = task_url(application, "family_document_checklist")
    page = client.get(url).get_data(as_text=True)
    assert "Family member&#39;s KITAS or KITAP" in page or "Family member's KITAS or KITAP" in page
    response = post_form(client, url, _documents(with_permit=False))
    if asked:
        assert response.status_code == 422
        assert form_errors(response) == ["This field is required."]
        response = post_form(client, url, {"sponsor_permit": ("kitas.pdf", pdf_bytes())})
    assert response.status_code == 302, form_errors(response)
    confirm_answers(client, application, "family_document_checklist")
    db.session.refresh(application)
    assert application.status == "awaiting_payment"
    fields = db.session.scalars(select(Document.field).where(Document.application_id == application.id)).all()
    assert sorted(fields) == sorted(_documents(with_permit=asked))


def test_the_relation_decides_whether_a_citizen_or_a_permit_holder_sponsors(
    users: dict[str, Any], client: FlaskClient, login_as: Any
) -> None:
    login_as(users["applicant"])
    client.post("/applications/new/family", data={"index_code": "E31A"})
    application = case_of(users["applicant"])
    post_form(client, task_url(application, "family_relation"), {"index_code": "E31A"})
    post_form(client, task_url(application, "family_applicant_data"), APPLICANT_DATA)
    url = task_url(application, "family_member_data")
    holder = {**MEMBER_DATA, **PERMIT_HOLDER, "index_code": "E31B"}  # a posted read-only relation is ignored
    response = post_form(client, url, {k: v for k, v in holder.items() if v is not None})
    assert response.status_code == 422 and form_errors(response) == ["This value must be citizen."]
    missing = {k: v for k, v in MEMBER_DATA.items() if k != "sponsor_nik"}
    response = post_form(client, url, missing)
    assert response.status_code == 422 and form_errors(response) == ["This field is required."]
    assert post_form(client, url, MEMBER_DATA).status_code == 302


def test_the_family_member_confirms_from_their_own_account(
    users: dict[str, Any], client: FlaskClient, login_as: Any, smtp_server: list[Any], clock: Any
) -> None:
    login_as(users["applicant"])
    application = _apply(client, users["applicant"], "E31B", FAMILY_MEMBER)
    # No account has the address: the family member is invited, and the applicant sees until when.
    invitation = invitations.invitation_of(application)
    assert invitation is not None and invitation.email == FAMILY_MEMBER
    assert invitation.deadline is not None and (invitation.deadline - clock.now()).days == 14
    # The applicant cannot answer for them.
    url = task_url(application, "family_sponsor_confirmation", "/sponsor")
    assert client.post(url, data={"sponsor_decision": "confirm"}).status_code in (403, 404)
    own = task_url(application, "family_sponsor_confirmation")
    assert client.post(own, data={"sponsor_decision": "confirm"}).status_code in (403, 404)
    # Nor can another sponsor account.
    login_as(users["sponsor"])
    assert client.post(url, data={"sponsor_decision": "confirm"}).status_code in (403, 404)
    assert application.reference not in client.get("/sponsor/").get_data(as_text=True)

    client.post("/auth/logout")
    path = invitation_path(smtp_server, FAMILY_MEMBER)
    response = client.post(
        path,
        data={
            "full_name": MEMBER_DATA["sponsor_name"],
            "phone": "+62 812 7777 8888",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "consent": "1",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/sponsor/")
    member = db.session.scalars(select(User).where(User.email == FAMILY_MEMBER)).one()
    assert member.has_role("sponsor") and member.email_verified_at is not None
    listing = client.get("/sponsor/").get_data(as_text=True)  # signed in by the sign-up
    assert application.reference in listing and "Confirm or decline" in listing
    _sponsor_confirms(client, application)
    db.session.refresh(application)
    assert application.status == "awaiting_documents"
    listing = client.get("/sponsor/").get_data(as_text=True)
    assert application.reference in listing and "Confirmed on " in listing
    page = listings.sponsor_requests(member)
    assert [row.decision.outcome for row in page.items if row.decision] == ["confirmed"]
    completed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.application_id == application.id, AuditEvent.action == "task_completed")
    ).all()
    assert [row.detail["task"] for row in completed if row.actor_id == member.id] == ["family_sponsor_confirmation"]


def test_a_family_member_who_does_not_answer_is_reminded(
    users: dict[str, Any], client: FlaskClient, login_as: Any, clock: Any
) -> None:
    """The catalog's sponsor reminder speaks of any task of the sponsor's lane: the family's too."""
    login_as(users["applicant"])
    application = _apply(client, users["applicant"], "E31A", users["sponsor"].email)
    reminders.plan_reminders()
    planned = db.session.scalars(select(Reminder).where(Reminder.application_id == application.id)).all()
    task = task_url(application, "family_sponsor_confirmation").rsplit("/", 1)[1]
    assert [(r.rule, r.subject) for r in planned] == [("sponsor_not_answered", task)]


def _do(application_id: int, element_id: str, user: User, **overrides: Any) -> Application:
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application_id, HumanTask.element_id == element_id)
    ).one()
    start_working(application_id, task, user)  # an officer claims the task before deciding
    return cases.complete_task(application_id, task.task_id, user, family_form(element_id, **overrides))


def test_the_interview_is_scheduled_on_a_coming_day_shown_and_reminded(
    users: dict[str, Any], client: FlaskClient, login_as: Any, clock: Any
) -> None:
    applicant, verifier = users["applicant"], users["verifier"]
    application = cases.start_case("family", applicant)
    for element in ("family_relation", "family_applicant_data"):
        _do(application.id, element, applicant)
    _do(application.id, "family_member_data", applicant, sponsor_email=users["sponsor"].email)
    _do(application.id, "family_sponsor_confirmation", users["sponsor"])
    _do(application.id, "family_document_checklist", applicant)
    cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    _do(application.id, "verify_documents", verifier)
    today = clock.now().date()
    office = make_office()
    past = make_slot(office, clock.now() - timedelta(hours=1), kind="interview")
    with pytest.raises(InvalidInput) as refused:
        _do(application.id, "schedule_family_interview", verifier, appointment_slot=past.id)
    assert list(refused.value.errors) == ["appointment_slot"]
    day = today + timedelta(days=10)
    slot = make_slot(office, datetime.combine(day, time(3, 0), UTC), kind="interview")  # 10:00 WIB
    application = _do(application.id, "schedule_family_interview", verifier, appointment_slot=slot.id)
    assert application.status == "interview_scheduled"
    login_as(applicant)
    page = client.get(f"/applications/{application.reference}").get_data(as_text=True)
    assert "Interview scheduled" in page and "Your family interview" in page
    assert "at 10:00 WIB, Kantor Imigrasi Jakarta Selatan" in page
    reminders.plan_reminders()
    planned = db.session.scalars(
        select(Reminder).where(Reminder.application_id == application.id, Reminder.rule == "interview_tomorrow")
    ).one()
    assert planned.due_at.date() == day - timedelta(days=1)
