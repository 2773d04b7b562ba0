"""Valid form data for every user task of the family diagram (its own steps and the shared ones it calls),
shared by the engine, service and browser tests of the family KITAS."""

from __future__ import annotations

from typing import Any

RELATION = {"index_code": "E31A"}
APPLICANT_DATA = {
    "full_name": "Maria Santos",
    "nationality": "PH",
    "date_of_birth": "1992-07-14",
    "passport_number": "P7654321A",
    "passport_expiry": "2031-03-31",
    "email": "maria@example.org",
    "phone": "+63 917 123 4567",
}
# A citizen sponsor (E31A, E31C); a permit holder's data for E31B is PERMIT_HOLDER.
MEMBER_DATA = {
    "sponsor_name": "Budi Santoso",
    "sponsor_email": "budi@example.id",
    "sponsor_status": "citizen",
    "sponsor_nik": "3171011407880001",
    "civil_document_number": "AKTA-474.2-1234-2020",
    "civil_document_date": "2020-02-14",
    "address_in_indonesia": "Jl. Kemang Raya 12, Jakarta Selatan 12730",
    "duration_months": 12,
}
PERMIT_HOLDER = {"sponsor_status": "permit_holder", "sponsor_nik": None, "sponsor_permit_number": "2C21JD1234-AB"}
DOCUMENTS = {
    "passport_scan": "doc-1",
    "photo": "doc-2",
    "civil_certificate": "doc-3",
    "sponsor_ktp": "doc-4",
    "sponsor_kk": "doc-5",
}
PAYMENT = {"billing_code": "820260105000002", "amount": 1700000, "paid_at": "2026-01-06T10:00:00+07:00"}


def form_data(element_id: str, **overrides: Any) -> dict[str, Any]:
    """Valid data for a user task of the family diagram, with overrides (a None override drops the field)."""
    defaults: dict[str, dict[str, Any]] = {
        "family_relation": RELATION,
        "family_applicant_data": APPLICANT_DATA,
        "family_member_data": MEMBER_DATA,
        "family_sponsor_confirmation": {"sponsor_decision": "confirm"},
        "family_document_checklist": DOCUMENTS,
        # The shared form asks whether an interview is needed; the family diagram holds one whatever the answer.
        "verify_documents": {"verification_decision": "approve", "interview_required": False},
        "submit_corrections": {"correction_note": "Uploaded a clearer marriage certificate."},
        "schedule_family_interview": {
            "appointment_slot": 1,
            "interview_office": "Kantor Imigrasi Jakarta Selatan",
            "interview_date": "2026-02-02",
        },
        "conduct_family_interview": {"appointment_outcome": "attended", "interview_outcome": "pass"},
        "supervisor_approval": {"approval_decision": "approve"},
        "book_biometrics": {
            "appointment_slot": 1,
            "office": "Kantor Imigrasi Jakarta Selatan",
            "appointment_date": "2026-02-10",
        },
        "capture_biometrics": {"appointment_outcome": "attended", "biometrics_captured": True},
    }
    merged = {**defaults[element_id], **overrides}
    return {key: value for key, value in merged.items() if value is not None}
