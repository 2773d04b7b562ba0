"""The student's own sponsor step works like the worker's: the invitation with its deadline, correcting the
address, the 14 days, the sponsor's list with the decision, the reminder (the code finds the step by role)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, Notification
from kitas.services import cases
from kitas.services.cases import invitations, listings, timers
from kitas.services.cases.invitation_mail import INVITATION, sponsor_deadline
from kitas.services.deployments import deploy_path
from tests.conftest import ROOT, deploy_shared_steps
from tests.services.helpers import in_app_templates
from tests.types_data import student_data
from tests.web.pages import open_task_row

NEW_SPONSOR = "admissions@new-university.ac.id"


@pytest.fixture()
def student(ctx: Any) -> None:
    deploy_shared_steps()
    deploy_path(ROOT / "bpmn" / "kitas_student.bpmn", ROOT / "forms" / "schemas")


def _complete(application_id: int, element_id: str, user: Any, **overrides: Any) -> Application:
    task = open_task_row(application_id, element_id)
    return cases.complete_task(application_id, task.task_id, user, student_data(element_id, **overrides))


def _waiting_case(users: dict[str, Any], sponsor_email: str = NEW_SPONSOR) -> Application:
    application = cases.start_case("student", users["applicant"])
    _complete(application.id, "student_applicant_data", users["applicant"])
    return _complete(application.id, "study_data", users["applicant"], sponsor_email=sponsor_email)


@pytest.mark.usefixtures("student")
def test_an_unregistered_sponsor_is_invited_with_the_students_deadline(users: dict[str, Any], clock: Any) -> None:
    application = _waiting_case(users)
    assert application.status == "awaiting_sponsor" and application.sponsor_email == NEW_SPONSOR
    rows = db.session.scalars(select(Notification).where(Notification.recipient == NEW_SPONSOR)).all()
    assert [row.template for row in rows] == [INVITATION]
    deadline = sponsor_deadline(application.id)
    assert deadline is not None and (deadline - clock.now()).days == 14
    invitation = invitations.invitation_of(db.session.get(Application, application.id))
    assert invitation is not None and invitation.deadline == deadline
    # The applicant corrects the address: the student's sponsor step is found and retargeted.
    invitations.correct_sponsor_email(application.reference, users["applicant"], "hr@employer.co.id")
    assert db.session.get(Application, application.id).sponsor_email == "hr@employer.co.id"
    _complete(application.id, "student_sponsor_confirmation", users["sponsor"])
    assert db.session.get(Application, application.id).status == "awaiting_documents"


@pytest.mark.usefixtures("student")
def test_the_students_sponsor_step_expires_and_both_are_told(users: dict[str, Any], clock: Any) -> None:
    application = _waiting_case(users, sponsor_email="hr@employer.co.id")
    clock.advance(days=14, seconds=1)
    assert len(timers.fire_due_timers("test").fired) == 1
    assert db.session.get(Application, application.id).status == "expired"
    assert in_app_templates(users["sponsor"]) == ["case.sponsor_asked", "case.sponsor_deadline_passed"]


@pytest.mark.usefixtures("student")
def test_the_sponsor_sees_their_decision_on_a_student_case(users: dict[str, Any], clock: Any) -> None:
    confirmed = _waiting_case(users, sponsor_email="hr@employer.co.id")
    declined = _waiting_case(users, sponsor_email="hr@employer.co.id")
    _complete(confirmed.id, "student_sponsor_confirmation", users["sponsor"])
    _complete(
        declined.id,
        "student_sponsor_confirmation",
        users["sponsor"],
        sponsor_decision="decline",
        sponsor_decline_reason="Not admitted to our programme",
    )
    assert db.session.get(Application, declined.id).status == "sponsor_declined"
    rows = {r.application.reference: r for r in listings.sponsor_requests(users["sponsor"]).items}
    decided = {reference: row.decision.outcome for reference, row in rows.items() if row.decision}
    assert decided == {confirmed.reference: "confirmed", declined.reference: "declined"}


@pytest.mark.usefixtures("student")
def test_the_students_sponsor_is_reminded_after_three_days(users: dict[str, Any], clock: Any) -> None:
    from datetime import timedelta

    from kitas.models import Reminder
    from kitas.services import reminders

    application = _waiting_case(users, sponsor_email="hr@employer.co.id")
    opened = clock.now()
    assert reminders.send_due_reminders() == 0  # planned, not due
    clock.set(opened + timedelta(days=3))
    assert reminders.send_due_reminders() == 1
    task = open_task_row(application.id, "student_sponsor_confirmation")
    row = db.session.scalars(select(Reminder).where(Reminder.rule == "sponsor_not_answered")).one()
    assert row.subject == task.task_id and row.status == "sent"
