"""Valid form data for every user task of the worker diagram, shared by engine, service and bench code."""

from __future__ import annotations

from typing import Any

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
        "book_biometrics": {"office": "JKT_SELATAN", "appointment_date": "2026-01-25"},
        "capture_biometrics": {"biometrics_captured": True},
    }
    return {**defaults[element_id], **overrides}
