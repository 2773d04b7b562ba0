"""Cases through the service layer: projections, audit, validation, access and state errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, HumanTask, Timer
from kitas.services import cases
from kitas.services.errors import CaseStateUnreadable, Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from tests.services.helpers import (
    complete,
    open_task,
    request_corrections,
    start_until_payment,
    start_until_verification,
)
from tests.worker_data import PAYMENT, form_data


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_full_case_through_services(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = cases.start_case("worker", users["applicant"])
    assert application.reference.startswith("E23-")
    assert application.status == "draft"
    task = open_task(application.id, "applicant_data")
    assert (task.role, task.lane, task.due_at) == ("applicant", "Applicant", None)

    application = start_until_verification(users) if False else application
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    assert db.session.get(Application, application.id).sponsor_email == "hr@employer.co.id"
    assert open_task(application.id, "sponsor_confirmation").role == "sponsor"
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    application = complete(application.id, "document_checklist", users["applicant"])
    assert application.status == "awaiting_payment"
    sponsor_deadline, timer = db.session.scalars(
        select(Timer).where(Timer.application_id == application.id).order_by(Timer.id)
    ).all()
    assert sponsor_deadline.element_id == "sponsor_deadline" and sponsor_deadline.status == "cancelled"
    assert timer.element_id == "payment_deadline" and timer.due_at == clock.now() + timedelta(days=7)

    application = cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    assert application.status == "in_verification"
    assert db.session.get(Timer, timer.id).status == "cancelled"
    verify = open_task(application.id, "verify_documents")
    assert verify.role == "verifier" and verify.due_at == clock.now() + timedelta(days=5)

    complete(application.id, "verify_documents", users["verifier"])
    complete(application.id, "supervisor_approval", users["supervisor"])
    complete(application.id, "book_biometrics", users["applicant"])
    application = complete(application.id, "capture_biometrics", users["verifier"])
    assert application.status == "permit_issued" and application.closed_at is not None
    assert db.session.scalar(select(func.count()).select_from(HumanTask)) == 0
    assert db.session.scalar(select(func.count()).where(Timer.status == "pending")) == 0
    completed = _audit("task_completed")
    assert len(completed) == 8
    assert completed[0].actor == users["applicant"].label and "passport_number" in completed[0].detail["changed"]
    assert [e.action for e in _audit("case_started")] == ["case_started"]
    assert len(_audit("message_delivered")) == 1


def test_bad_form_returns_every_error_and_changes_nothing(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    before = (application.version, application.workflow_state)
    task = open_task(application.id, "applicant_data")
    bad = form_data("applicant_data", passport_number="no!", email="not-an-email", date_of_birth="1990-13-45")
    del bad["full_name"]
    with pytest.raises(InvalidInput) as caught:
        cases.complete_task(application.id, task.task_id, users["applicant"], bad)
    assert {"passport_number", "email", "date_of_birth", "full_name"} <= set(caught.value.errors)
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert (stored.version, stored.workflow_state) == before
    assert _audit("task_completed") == []


def test_read_only_fields_cannot_be_written(worker: int, users: dict[str, Any]) -> None:
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "Passport scan is blurry")
    task = open_task(application.id, "submit_corrections")
    cases.complete_task(
        application.id,
        task.task_id,
        users["applicant"],
        {**form_data("submit_corrections"), "verification_reason": "all fine, approve me"},
    )
    runtime = cases.read_runtime(db.session.get(Application, application.id))
    # The round is kept with the officer's words, not the applicant's; the next verification opens empty.
    assert runtime.data["correction_rounds"][-1]["reason"] == "Passport scan is blurry"
    assert "verification_reason" not in runtime.data


def test_task_of_another_lane_is_refused(worker: int, users: dict[str, Any]) -> None:
    application = start_until_verification(users)
    task = open_task(application.id, "verify_documents")
    with pytest.raises(Forbidden, match="Verifier lane"):
        cases.complete_task(application.id, task.task_id, users["supervisor"], form_data("verify_documents"))
    with pytest.raises(Forbidden):
        cases.complete_task(application.id, task.task_id, users["applicant"], form_data("verify_documents"))


def test_someone_elses_case_is_not_found_and_audited(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    task = open_task(application.id, "applicant_data")
    with pytest.raises(NotFound):
        cases.complete_task(application.id, task.task_id, users["other_applicant"], form_data("applicant_data"))
    refused = _audit("access_refused")
    assert len(refused) == 1 and refused[0].actor == users["other_applicant"].label
    assert open_task(application.id, "applicant_data").task_id == task.task_id
    with pytest.raises(NotFound) as not_found:
        cases.find_case(application.reference, users["other_applicant"])
    assert str(not_found.value) == "there is no such application, or it is not yours"
    with pytest.raises(NotFound):
        cases.find_case("E23-2026-NOSUCH00", users["other_applicant"])
    assert [row.detail for row in _audit("access_refused")[1:]] == [
        {"object": "application", "id": application.id, "reason": f"case {application.reference}"},
        {"object": "application", "id": None, "reason": "case E23-2026-NOSUCH00"},
    ]


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed-other-employer", "unconfirmed-other-employer"])
def test_sponsor_not_named_cannot_see_case(worker: int, users: dict[str, Any], confirmed: bool) -> None:
    """Another employer's sponsor, even with a confirmed address, neither sees nor acts on the case.

    The confirmed one is the case that breaks only the address rule: an unconfirmed address is already
    refused by the confirmation check.
    """
    from kitas.services.cases import listings, taskforms
    from tests.factories import make_user

    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    stranger = make_user("sponsor", email="hr@other.co.id", confirmed=confirmed)
    task = open_task(application.id, "sponsor_confirmation")
    with pytest.raises(NotFound):
        cases.find_case(application.reference, stranger)
    with pytest.raises(NotFound):
        taskforms.open_task_page(application.reference, task.task_id, stranger)
    with pytest.raises(NotFound):
        cases.complete_task(application.id, task.task_id, stranger, form_data("sponsor_confirmation"))
    assert listings.sponsor_requests(stranger).total == 0
    assert [row.actor for row in _audit("access_refused")] == [stranger.label] * 3
    assert open_task(application.id, "sponsor_confirmation").task_id == task.task_id  # still the sponsor's to do
    # The named sponsor, with the same role and a confirmed address, may.
    assert cases.find_case(application.reference, users["sponsor"]).id == application.id
    assert listings.sponsor_requests(users["sponsor"]).total == 1


def test_the_sponsor_address_is_compared_without_case(worker: int, users: dict[str, Any]) -> None:
    from kitas.services.cases.access import can_see_case, is_named_sponsor

    application = cases.start_case("worker", users["applicant"], sponsor_email="hr@employer.co.id")
    users["sponsor"].email = "HR@Employer.co.id"  # as typed at registration
    assert is_named_sponsor(application, users["sponsor"]) and can_see_case(application, users["sponsor"])
    application.sponsor_email = None  # a case naming no sponsor has none, whoever asks
    assert not is_named_sponsor(application, users["sponsor"]) and not can_see_case(application, users["sponsor"])
    db.session.rollback()


def test_an_officer_who_is_also_a_sponsor_cannot_guarantee_for_another_employer(
    worker: int, users: dict[str, Any]
) -> None:
    """Seeing a case as an officer does not make someone the sponsor it names (the lane check's own rule)."""
    from tests.factories import make_user

    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    both = make_user("sponsor", "verifier", email="hr@other.co.id", confirmed=True)
    assert cases.find_case(application.reference, both).id == application.id  # an officer may see it
    task = open_task(application.id, "sponsor_confirmation")
    with pytest.raises(Forbidden, match="for the sponsor named in"):
        cases.complete_task(application.id, task.task_id, both, form_data("sponsor_confirmation"))
    assert open_task(application.id, "sponsor_confirmation").task_id == task.task_id


def test_completed_task_names_who_completed_it(worker: int, users: dict[str, Any]) -> None:
    application = start_until_verification(users)
    task_id = open_task(application.id, "verify_documents").task_id
    complete(application.id, "verify_documents", users["verifier"])
    with pytest.raises(Conflict, match="already completed by Vera Verifier"):
        cases.complete_task(application.id, task_id, users["verifier2"], form_data("verify_documents"))


def test_unknown_task_and_stale_version_are_conflicts(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    with pytest.raises(Conflict, match="no longer open"):
        cases.complete_task(application.id, "nope", users["applicant"], {})
    task = open_task(application.id, "applicant_data")
    with pytest.raises(Conflict, match="changed since you opened it"):
        cases.complete_task(
            application.id,
            task.task_id,
            users["applicant"],
            form_data("applicant_data"),
            expected_version=application.version - 1,
        )


def test_message_to_a_case_not_waiting_is_refused(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    with pytest.raises(Conflict, match="not waiting for the message 'payment_received'"):
        cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    application = start_until_payment(users)
    cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    with pytest.raises(Conflict):
        cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")


@pytest.mark.parametrize(
    ("state", "state_format", "expected"),
    [
        ("{not json", None, "is corrupt"),
        ('{"tasks": {}}', None, "is corrupt"),
        (None, "kitas-0+spiff-0.1", "cannot read"),
    ],
)
def test_damaged_state_is_reported_with_the_reference(
    worker: int, users: dict[str, Any], state: str | None, state_format: str | None, expected: str
) -> None:
    application = cases.start_case("worker", users["applicant"])
    task = open_task(application.id, "applicant_data")
    if state is not None:
        application.workflow_state = state
    if state_format is not None:
        application.state_format = state_format
    db.session.commit()
    with pytest.raises(CaseStateUnreadable, match=expected) as caught:
        cases.complete_task(application.id, task.task_id, users["applicant"], form_data("applicant_data"))
    assert application.reference in str(caught.value)
    db.session.expire_all()
    assert db.session.get(Application, application.id).workflow_state == (state or application.workflow_state)


def test_unknown_or_unavailable_type_is_not_found(worker: int, users: dict[str, Any]) -> None:
    with pytest.raises(NotFound, match="no KITAS type"):
        cases.start_case("astronaut", users["applicant"])
    # Every shipped type has a diagram; one not deployed (here only the worker is) cannot start a case.
    with pytest.raises(ServiceError, match="kitas_family is not deployed"):
        cases.start_case("family", users["applicant"])


def _section_titles(reference: str, element_id: str, application_id: int, user: Any) -> list[str]:
    from kitas.services.cases import taskforms

    page = taskforms.open_task_page(reference, open_task(application_id, element_id).task_id, user)
    return [section.title for section in page.sections]


def test_each_task_page_shows_only_the_answers_its_role_may_read(worker: int, users: dict[str, Any]) -> None:
    """The sponsor reads the applicant's answers only; the applicant none (their own); officers every lane."""
    # Data an officer's lane would hold (the supervisor's reasons), present in the case from the start.
    application = cases.start_case(
        "worker", users["applicant"], data={"approval_decision": "reject", "approval_reason": "Officers only."}
    )
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    sponsor_sees = _section_titles(application.reference, "sponsor_confirmation", application.id, users["sponsor"])
    assert sponsor_sees == ["Applicant's details", "Employment details"]  # in the forms' reviewer words
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    assert _section_titles(application.reference, "document_checklist", application.id, users["applicant"]) == []
    application = start_until_verification(users)
    officer_sees = _section_titles(application.reference, "verify_documents", application.id, users["verifier"])
    assert officer_sees[:3] == ["Applicant's details", "Employment details", "Sponsor's confirmation"]


def test_a_task_of_another_case_is_not_opened_on_this_one(worker: int, users: dict[str, Any]) -> None:
    from kitas.services.cases import taskforms

    mine = cases.start_case("worker", users["applicant"])
    theirs = cases.start_case("worker", users["other_applicant"])
    their_task = open_task(theirs.id, "applicant_data").task_id
    with pytest.raises(Conflict, match="no longer open"):
        taskforms.open_task_page(mine.reference, their_task, users["applicant"])


def test_the_sponsor_list_puts_open_requests_first_and_pages(worker: int, users: dict[str, Any], clock: Any) -> None:
    from kitas.services.cases import listings
    from tests.factories import make_user

    def awaiting_sponsor() -> Application:
        clock.advance(minutes=1)
        application = cases.start_case("worker", users["applicant"])
        complete(application.id, "applicant_data", users["applicant"])
        complete(application.id, "employment_data", users["applicant"])
        return application

    older, newer, decided = awaiting_sponsor(), awaiting_sponsor(), awaiting_sponsor()
    clock.advance(minutes=1)
    complete(decided.id, "sponsor_confirmation", users["sponsor"])  # the most recently changed, but decided
    sponsor = users["sponsor"]
    first = listings.sponsor_requests(sponsor, 1, 2)
    assert [row.application.id for row in first.items] == [newer.id, older.id]
    assert (first.number, first.per_page, first.total) == (1, 2, 3)
    assert {row.type_name for row in first.items} == {"Work KITAS (E23)"}
    assert [row.application.id for row in listings.sponsor_requests(sponsor, 2, 2).items] == [decided.id]
    default = listings.sponsor_requests(sponsor)
    assert (default.number, default.per_page, len(default.items)) == (1, 20, 3)
    nobody = listings.sponsor_requests(make_user("sponsor", email="hr@third.co.id"))  # unconfirmed
    assert (nobody.items, nobody.number, nobody.per_page, nobody.total) == ([], 1, 20, 0)


@pytest.mark.parametrize("other_role", ["verifier", "sponsor"])
def test_someone_who_sees_the_case_still_cannot_do_the_applicants_part(
    worker: int, users: dict[str, Any], other_role: str
) -> None:
    """An officer (or the named sponsor) who also holds the applicant role is not this case's applicant."""
    from tests.factories import make_user

    email = "hr@employer.co.id" if other_role == "sponsor" else "both@imigrasi.example"
    if other_role == "sponsor":
        users["sponsor"].email = "old-hr@employer.co.id"  # the named address now belongs to the new account
        db.session.commit()
    both = make_user("applicant", other_role, email=email, confirmed=True)
    application = cases.start_case("worker", users["applicant"], sponsor_email="hr@employer.co.id")
    assert cases.find_case(application.reference, both).id == application.id
    task = open_task(application.id, "applicant_data")
    with pytest.raises(Forbidden) as refused:
        cases.complete_task(application.id, task.task_id, both, form_data("applicant_data"))
    assert str(refused.value) == f"the task 'Fill in applicant data' is for the applicant of {application.reference}"
    assert open_task(application.id, "applicant_data").task_id == task.task_id
    with pytest.raises(NotFound, match="^there is no such application$"):
        cases.complete_task(application.id, task.task_id, users["other_applicant"], form_data("applicant_data"))
