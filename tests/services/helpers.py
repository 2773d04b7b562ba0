"""Shortcuts for driving worker cases through the service layer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, HumanTask, Notification, User
from kitas.services import cases
from kitas.services.cases.access import OFFICER_ROLES
from kitas.services.cases.claims import claim_task
from tests.factories import free_slot_for
from tests.worker_data import PAYMENT, form_data

# The booking steps and the kind of slot they book.
BOOKING_KINDS = {"book_biometrics": "biometrics", "schedule_family_interview": "interview"}


def open_task(application_id: int, element_id: str) -> HumanTask:
    """The open human_task row of a case for an element."""
    row = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application_id, HumanTask.element_id == element_id)
    ).first()
    assert row is not None, f"no open task {element_id}"
    return row


def in_app_templates(user: User) -> list[str | None]:
    """The templates of the notifications ``user`` has on the site (the in-app channel)."""
    query = select(Notification).where(Notification.user_id == user.id, Notification.channel == "in_app")
    return [n.template for n in db.session.scalars(query).all()]


def complete(application_id: int, element_id: str, user: User, **overrides: Any) -> Application:
    """Complete the open task ``element_id`` as ``user`` with valid data plus overrides; an officer's
    task is claimed first, as an officer starts working on it before deciding."""
    task = open_task(application_id, element_id)
    start_working(application_id, task, user)
    if element_id in BOOKING_KINDS and "appointment_slot" not in overrides:  # a free time of the case's office
        overrides["appointment_slot"] = free_slot_for(application_id, BOOKING_KINDS[element_id])
    return cases.complete_task(application_id, task.task_id, user, form_data(element_id, **overrides))


def start_working(application_id: int, task: HumanTask, user: User) -> None:
    """Claim an officer's task for ``user`` (nothing for the applicant's and sponsor's tasks)."""
    if task.role in OFFICER_ROLES and task.claimed_by_id != user.id:
        reference = db.session.scalar(select(Application.reference).where(Application.id == application_id))
        assert reference is not None
        claim_task(reference, task.task_id, user)


def start_until_payment(users: dict[str, Any]) -> Application:
    """A worker case whose applicant and sponsor have done their parts; it waits for payment."""
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    return complete(application.id, "document_checklist", users["applicant"])


def start_until_verification(users: dict[str, Any]) -> Application:
    """A paid worker case waiting for the verifier."""
    application = start_until_payment(users)
    return cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")


def request_corrections(application_id: int, verifier: User, reason: str) -> Application:
    """The verifier sends a paid case back to the applicant for corrections."""
    return complete(
        application_id, "verify_documents", verifier, verification_decision="corrections", verification_reason=reason
    )
