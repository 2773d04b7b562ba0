"""Sponsors who have no account yet: the invitation, its link, resending, correcting the address, the
14-day deadline, and the sponsor's list after deciding (issue 9, section 5)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, Notification, User
from kitas.services import accounts, notifications
from kitas.services.accounts import tokens
from kitas.services.cases import invitations, listings, timeline, timers
from kitas.services.cases.invitation_mail import INVITATION, INVITATION_EXPIRED
from kitas.services.errors import Conflict, Forbidden, InvalidInput
from tests.services.helpers import complete, in_app_templates

NEW_SPONSOR = "hr@new-employer.co.id"
PASSWORD = "correct horse battery staple"


def _waiting_case(users: dict[str, Any], sponsor_email: str = NEW_SPONSOR) -> Application:
    from kitas.services import cases

    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    return complete(application.id, "employment_data", users["applicant"], sponsor_email=sponsor_email)


def _audits(application_id: int, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.application_id == application_id, AuditEvent.action == action)
    return list(db.session.scalars(query.order_by(AuditEvent.seq)))


def _invitation_rows(email: str = NEW_SPONSOR, template: str = INVITATION) -> list[Notification]:
    query = select(Notification).where(Notification.recipient == email, Notification.template == template)
    return list(db.session.scalars(query.order_by(Notification.id)))


def _to(inbox: list[Any], email: str = NEW_SPONSOR) -> list[Any]:
    return [message for message in inbox if message["To"] == email]


def _link(body: str) -> str:
    found = re.search(r"http://kitas\.test(/auth/invitation/[^\s]+)", body)
    assert found, body
    return found.group(1)


def _token(body: str) -> str:
    return _link(body).rsplit("/", 1)[1]


def _accept(token: str, **overrides: Any) -> User:
    fields: dict[str, Any] = {
        "full_name": "Hana Human Resources",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "phone": "+62 812 3456 7890",
        "consent": True,
        "language": "en",
    }
    return invitations.accept_invitation(token, **(fields | overrides))


def test_the_invitation_is_queued_delivered_and_its_link_registers_the_sponsor(
    worker: int, users: dict[str, Any], smtp_server: list[Any]
) -> None:
    application = _waiting_case(users)
    assert application.status == "awaiting_sponsor" and application.sponsor_email == NEW_SPONSOR
    [row] = _invitation_rows()
    [audited] = _audits(application.id, "sponsor_invited")
    assert audited.detail["email"] == NEW_SPONSOR and audited.actor == "system"
    notifications.deliver_due()
    [message] = _to(smtp_server)
    assert "Ana Applicant named you as sponsor" in message["Subject"]
    assert "Ana Applicant menunjuk Anda sebagai penjamin" in message["Subject"]  # Indonesian first, then English
    body = message.get_content()
    assert application.reference in body and "register number" in body and "nomor register" in body
    token = _token(body)
    assert invitations.check_invitation(token).email == NEW_SPONSOR

    sponsor = _accept(token)
    assert sponsor.has_role("sponsor") and sponsor.email == NEW_SPONSOR
    assert sponsor.email_verified_at is not None  # the link proved the mailbox
    page = listings.sponsor_requests(sponsor)
    assert [r.application.reference for r in page.items] == [application.reference]
    assert page.items[0].next_step is not None and page.items[0].next_step.task_id
    assert _audits(application.id, "sponsor_registered_by_invitation")[0].actor_id == sponsor.id
    assert in_app_templates(sponsor) == ["case.sponsor_asked"]
    # The case is theirs to answer now; the status page no longer speaks of an invitation.
    assert timeline.case_status(db.session.get(Application, application.id), users["applicant"]).invitation is None
    complete(application.id, "sponsor_confirmation", sponsor)
    assert db.session.get(Application, application.id).status == "awaiting_documents"


def test_a_sponsor_with_an_account_gets_no_invitation(worker: int, users: dict[str, Any]) -> None:
    application = _waiting_case(users, sponsor_email="hr@employer.co.id")
    assert _invitation_rows("hr@employer.co.id") == [] and _audits(application.id, "sponsor_invited") == []
    assert timeline.case_status(application, users["applicant"]).invitation is None


def test_a_link_used_twice_replaced_or_expired_is_refused(
    worker: int, users: dict[str, Any], smtp_server: list[Any], clock: Any
) -> None:
    application = _waiting_case(users)
    notifications.deliver_due()
    token = _token(_to(smtp_server)[0].get_content())
    _accept(token)
    with pytest.raises(accounts.TokenInvalid, match="already used"):
        invitations.check_invitation(token)
    with pytest.raises(accounts.TokenInvalid, match="already used"):
        _accept(token)

    # A link for an address the case no longer names.
    other = _waiting_case(users, sponsor_email="first@typo.co.id")
    stale = tokens.sponsor_invitation_token(other.id, "first@typo.co.id")
    invitations.correct_sponsor_email(other.reference, users["applicant"], "second@right.co.id")
    with pytest.raises(accounts.TokenInvalid, match="another address"):
        invitations.check_invitation(stale)
    assert not any(u.email == "first@typo.co.id" for u in db.session.scalars(select(User)))

    # A forged link, and one older than 14 days.
    with pytest.raises(accounts.TokenInvalid, match="damaged"):
        invitations.check_invitation(token[:-3] + "abc")
    fresh = tokens.sponsor_invitation_token(other.id, "second@right.co.id")
    clock.advance(days=14, seconds=1)
    with pytest.raises(accounts.TokenInvalid) as refused:
        invitations.check_invitation(fresh)
    assert refused.value.expired and "14 days" in str(refused.value)
    assert application.id != other.id


def test_resending_is_limited_and_audited(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = _waiting_case(users)
    shown = timeline.case_status(application, users["applicant"]).invitation
    assert shown is not None and shown.email == NEW_SPONSOR and shown.can_resend
    assert shown.deadline is not None and (shown.deadline - shown.sent_at).days == 14
    clock.advance(hours=1)
    invitations.resend_invitation(application.reference, users["applicant"])
    invitations.resend_invitation(application.reference, users["applicant"])
    with pytest.raises(Conflict, match="3 times in the last 24 hours"):
        invitations.resend_invitation(application.reference, users["applicant"])
    assert len(_invitation_rows()) == 3 and len(_audits(application.id, "sponsor_invited")) == 3
    again = _audits(application.id, "sponsor_invited")[-1]
    assert again.actor_id == users["applicant"].id and again.detail["again"] is True
    shown = timeline.case_status(db.session.get(Application, application.id), users["applicant"]).invitation
    assert shown is not None and not shown.can_resend and shown.sent_at == clock.now()
    # A day after the first one, one more may go.
    clock.advance(hours=23, seconds=1)
    invitations.resend_invitation(application.reference, users["applicant"])
    # Only the applicant may; the sponsor or another applicant may not.
    with pytest.raises(Forbidden):
        invitations.resend_invitation(application.reference, users["verifier"])
    with pytest.raises(Exception, match="no such application"):
        invitations.resend_invitation(application.reference, users["other_applicant"])


def test_correcting_the_address_retargets_the_sponsor_step(
    worker: int, users: dict[str, Any], smtp_server: list[Any]
) -> None:
    application = _waiting_case(users, sponsor_email="hr@typo.co.id")
    notifications.deliver_due()
    old_token = _token(_to(smtp_server, "hr@typo.co.id")[0].get_content())
    version = db.session.get(Application, application.id).version
    with pytest.raises(InvalidInput):
        invitations.correct_sponsor_email(application.reference, users["applicant"], "not an address")
    with pytest.raises(InvalidInput):
        invitations.correct_sponsor_email(application.reference, users["applicant"], "hr@typo.co.id")
    invitations.correct_sponsor_email(application.reference, users["applicant"], " HR@New-Employer.co.id ")
    application = db.session.get(Application, application.id)
    assert application.sponsor_email == NEW_SPONSOR and application.version == version + 1
    [corrected] = _audits(application.id, "sponsor_email_corrected")
    assert corrected.detail == {"case": application.reference, "from": "hr@typo.co.id", "to": NEW_SPONSOR}
    assert len(_invitation_rows()) == 1
    # The old link stops working, and the old address's pending mail is not sent any more.
    with pytest.raises(accounts.TokenInvalid, match="another address"):
        invitations.check_invitation(old_token)
    notifications.deliver_due()
    assert len(_to(smtp_server, "hr@typo.co.id")) == 1
    sponsor = _accept(_token(_to(smtp_server)[0].get_content()))
    complete(application.id, "sponsor_confirmation", sponsor)
    assert db.session.get(Application, application.id).sponsor_email == NEW_SPONSOR  # the data carries it on


def test_correcting_to_a_registered_sponsor_tells_their_account(worker: int, users: dict[str, Any]) -> None:
    application = _waiting_case(users, sponsor_email="hr@typo.co.id")
    invitations.correct_sponsor_email(application.reference, users["applicant"], "hr@employer.co.id")
    sponsor = users["sponsor"]
    assert listings.sponsor_requests(sponsor).items[0].next_step is not None
    told = db.session.scalars(select(Notification).where(Notification.user_id == sponsor.id)).all()
    assert {n.template for n in told} == {"case.sponsor_asked"}
    assert timeline.case_status(db.session.get(Application, application.id), users["applicant"]).invitation is None


def test_the_sponsor_step_expires_after_fourteen_days_and_both_are_told(
    worker: int, users: dict[str, Any], clock: Any, smtp_server: list[Any]
) -> None:
    application = _waiting_case(users)
    notifications.deliver_due()
    token = _token(_to(smtp_server)[0].get_content())
    clock.advance(days=13, hours=23)
    assert timers.fire_due_timers("test").fired == []
    clock.advance(hours=1, seconds=1)
    assert len(timers.fire_due_timers("test").fired) == 1
    application = db.session.get(Application, application.id)
    assert application.status == "expired" and application.closed_at is not None
    applicant_rows = db.session.scalars(
        select(Notification).where(
            Notification.user_id == users["applicant"].id, Notification.created_at == clock.now()
        )
    ).all()
    assert {r.channel for r in applicant_rows} >= {"in_app", "email"}
    assert {r.template for r in applicant_rows} == {"case.applicant_sponsor_deadline"}
    [expired_row] = _invitation_rows(template=INVITATION_EXPIRED)
    notifications.deliver_due()
    subjects = [m["Subject"] for m in smtp_server]
    assert any("invitation to sponsor has expired" in s for s in subjects)
    assert any("your sponsor did not answer in time" in s for s in subjects)
    mail_to_sponsor = next(m for m in smtp_server if m["To"] == NEW_SPONSOR and "expired" in m["Subject"])
    assert "14" in mail_to_sponsor.get_content() and expired_row.recipient == NEW_SPONSOR
    with pytest.raises(accounts.TokenInvalid):
        invitations.check_invitation(token)


def test_a_registered_sponsor_is_told_of_the_deadline_in_app(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = _waiting_case(users, sponsor_email="hr@employer.co.id")
    clock.advance(days=14, seconds=1)
    timers.fire_due_timers("test")
    assert db.session.get(Application, application.id).status == "expired"
    assert in_app_templates(users["sponsor"]) == ["case.sponsor_asked", "case.sponsor_deadline_passed"]
    page = listings.sponsor_requests(users["sponsor"])
    assert page.items[0].decision is None and page.items[0].next_step is None


def test_the_sponsor_still_sees_the_case_and_their_decision(worker: int, users: dict[str, Any], clock: Any) -> None:
    confirmed = _waiting_case(users, sponsor_email="hr@employer.co.id")
    declined = _waiting_case(users, sponsor_email="hr@employer.co.id")
    complete(confirmed.id, "sponsor_confirmation", users["sponsor"])
    decided_at = clock.now()
    clock.advance(hours=2)
    complete(
        declined.id,
        "sponsor_confirmation",
        users["sponsor"],
        sponsor_decision="decline",
        sponsor_decline_reason="Not our employee",
    )
    rows = {r.application.reference: r for r in listings.sponsor_requests(users["sponsor"]).items}
    assert set(rows) == {confirmed.reference, declined.reference}
    first, second = rows[confirmed.reference].decision, rows[declined.reference].decision
    assert first is not None and (first.outcome, first.at) == ("confirmed", decided_at)
    assert second is not None and second.outcome == "declined" and second.at == clock.now()


def _without_the_deadline(xml: str) -> str:
    """The worker diagram as it was before the sponsor's deadline (its elements taken out again)."""
    for pattern in (
        r'\s*<bpmn:boundaryEvent id="sponsor_deadline".*?</bpmn:boundaryEvent>',
        r'\s*<bpmn:endEvent id="end_sponsor_expired".*?</bpmn:endEvent>',
        r'\s*<bpmn:sequenceFlow id="flow_sponsor_deadline_to_end_sponsor_expired"[^>]*/>',
        r"\s*<bpmn:flowNodeRef>(sponsor_deadline|end_sponsor_expired)</bpmn:flowNodeRef>",
        r'\s*<bpmndi:BPMNShape id="(sponsor_deadline|end_sponsor_expired)_di".*?</bpmndi:BPMNShape>',
        r'\s*<bpmndi:BPMNEdge id="flow_sponsor_deadline_to_end_sponsor_expired_di".*?</bpmndi:BPMNEdge>',
    ):
        xml, found = re.subn(pattern, "", xml, flags=re.S)
        assert found, pattern
    return xml


def test_a_case_running_on_the_version_before_keeps_it(ctx: Any, users: dict[str, Any], tmp_path: Any) -> None:
    import shutil

    from kitas.models import Timer
    from kitas.services.deployments import deploy_path
    from tests.conftest import ROOT, deploy_shared_steps

    deploy_shared_steps()
    older = tmp_path / "kitas_worker.bpmn"
    older.write_text(_without_the_deadline((ROOT / "bpmn" / "kitas_worker.bpmn").read_text()))
    shutil.copy(ROOT / "bpmn" / "fees.dmn", tmp_path / "fees.dmn")
    first = deploy_path(older, ROOT / "forms" / "schemas").definition_id
    running = _waiting_case(users, sponsor_email="hr@employer.co.id")
    second = deploy_path(ROOT / "bpmn" / "kitas_worker.bpmn", ROOT / "forms" / "schemas").definition_id
    assert first != second
    newer = _waiting_case(users, sponsor_email="hr@employer.co.id")
    assert (running.definition_id, newer.definition_id) == (first, second)

    def deadlines(application: Application) -> list[str]:
        query = select(Timer.element_id).where(Timer.application_id == application.id, Timer.status == "pending")
        return list(db.session.scalars(query))

    assert deadlines(running) == [] and deadlines(newer) == ["sponsor_deadline"]
    complete(running.id, "sponsor_confirmation", users["sponsor"])
    assert db.session.get(Application, running.id).definition_id == first
