"""Issued worker cases for the permit tests, driven through the services."""

from __future__ import annotations

from typing import Any

from kitas.models import Application, Permit
from kitas.services import cases, documents
from kitas.services.permits import issuance
from tests.services.helpers import complete, open_task
from tests.uploads import jpeg_bytes
from tests.worker_data import PAYMENT


def issued_case(users: dict[str, Any], *, photo: bool = False, **applicant: Any) -> Application:
    """A worker case driven to "Permit issued" (its applicant's answers changed by ``applicant``)."""
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"], **applicant)
    complete(application.id, "employment_data", users["applicant"])
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    overrides = {}
    if photo:
        task = open_task(application.id, "document_checklist")
        stored = documents.store_uploads(
            application.id, users["applicant"], task.task_id, {"photo": ("me.jpg", jpeg_bytes())}
        )
        overrides["photo"] = stored.stored["photo"].public_id
    complete(application.id, "document_checklist", users["applicant"], **overrides)
    cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    complete(application.id, "verify_documents", users["verifier"])
    complete(application.id, "supervisor_approval", users["supervisor"])
    complete(application.id, "book_biometrics", users["applicant"])
    return complete(application.id, "capture_biometrics", users["verifier"])


def permit_of(application: Application) -> Permit:
    """The permit an issued case got."""
    permit = issuance.permit_of_case(application.id)
    assert permit is not None
    return permit
