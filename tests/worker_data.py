"""Valid form data for every user task of the worker diagram, shared by engine, service and bench code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import ProcessModel, parse_process

BPMN = Path(__file__).resolve().parents[1] / "bpmn"

APPLICANT_DATA = {
    "full_name": "Ana Lima",
    "nationality": "BR",
    "date_of_birth": "1990-04-02",
    "passport_number": "FZ1234567",
    "passport_expiry": "2030-01-31",
    "email": "ana@example.org",
    "phone": "+55 11 91234 5678",
}
EMPLOYMENT_DATA = {
    "employer_name": "PT Contoh Teknologi",
    "sponsor_email": "hr@employer.co.id",
    "rptka_number": "RPTKA-2026-00042",
    "position": "Software Engineer",
    "contract_months": 12,
    "previous_employers": [{"name": "Acme Ltda", "country": "BR", "from_year": 2015, "to_year": 2025}],
}
DOCUMENTS = {
    "passport_scan": "doc-1",
    "photo": "doc-2",
    "rptka_approval": "doc-3",
    "employment_contract": "doc-4",
    "sponsor_letter": "doc-5",
    "company_nib": "doc-6",
}
# The worker's steps in diagram order, into the shared steps it calls (the outline, the information page).
WORKER_STEPS = [
    "applicant_data",
    "employment_data",
    "sponsor_confirmation",
    "document_checklist",
    "await_payment",
    "verify_documents",
    "submit_corrections",
    "supervisor_approval",
    "conduct_interview",
    "book_biometrics",
    "capture_biometrics",
]

PAYMENT = {"billing_code": "820260105000001", "amount": 1700000, "paid_at": "2026-01-06T10:00:00+07:00"}


def form_data(element_id: str, **overrides: Any) -> dict[str, Any]:
    """Valid data for a user task of the worker diagram, with overrides."""
    defaults: dict[str, dict[str, Any]] = {
        "applicant_data": APPLICANT_DATA,
        "employment_data": EMPLOYMENT_DATA,
        "sponsor_confirmation": {"sponsor_decision": "confirm"},
        "document_checklist": DOCUMENTS,
        "verify_documents": {"verification_decision": "approve", "interview_required": False},
        "submit_corrections": {"correction_note": "Uploaded a clearer passport scan."},
        "supervisor_approval": {"approval_decision": "approve"},
        "conduct_interview": {"interview_date": "2026-01-20", "interview_outcome": "pass"},
        "book_biometrics": {
            "appointment_slot": 1,
            "office": "Kantor Imigrasi Jakarta Selatan",
            "appointment_date": "2026-01-25",
        },
        "capture_biometrics": {"appointment_outcome": "attended", "biometrics_captured": True},
    }
    return {**defaults[element_id], **overrides}


def shared_diagrams() -> dict[str, str]:
    """The shared steps' diagrams (bpmn/shared/), file name -> BPMN text."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((BPMN / "shared").glob("*.bpmn"))}


def worker_model(bpmn: str | None = None) -> ProcessModel:
    """The worker diagram (or ``bpmn``) parsed with the fee table and the shared steps it calls."""
    text = bpmn if bpmn is not None else (BPMN / "kitas_worker.bpmn").read_text(encoding="utf-8")
    return parse_process(text, {"fees.dmn": (BPMN / "fees.dmn").read_text(encoding="utf-8")}, called=shared_diagrams())


def task_spec(model: ProcessModel, element_id: str) -> Any:
    """The task spec of an element, in the process or in a process it calls."""
    for spec in (model.spec, *model.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == element_id:
                return task_spec
    raise KeyError(element_id)
