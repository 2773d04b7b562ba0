"""Valid form data for the investor and student diagrams (the shared steps' data is the worker's), shared by
engine, service and browser tests."""

from __future__ import annotations

from typing import Any

from tests.worker_data import APPLICANT_DATA
from tests.worker_data import form_data as shared_step_data

# Valid on the tests' clock (5 January 2026) for the longest stay and the six months beyond it.
PASSPORT_EXPIRY = "2031-05-31"

INVESTOR_APPLICANT = {
    **APPLICANT_DATA,
    "full_name": "Kenji Watanabe",
    "nationality": "JP",
    "passport_expiry": PASSPORT_EXPIRY,
}
INVESTMENT = {
    "company_name": "PT Contoh Investama",
    "nib_number": "8120012345678",
    "deed_number": "AHU-0012345.AH.01.01",
    "share_value_idr": 12_000_000_000,
    "share_percentage": 60,
    "duration_months": 12,
}
INVESTOR_DOCUMENTS = {
    "passport_scan": "doc-1",
    "photo": "doc-2",
    "company_deed": "doc-3",
    "company_nib": "doc-4",
    "shareholding_proof": "doc-5",
    "statement_letter": "doc-6",
}

STUDENT_APPLICANT = {
    **APPLICANT_DATA,
    "full_name": "Mai Nguyen",
    "nationality": "VN",
    "passport_expiry": PASSPORT_EXPIRY,
}
STUDY = {
    "index_code": "E30B",
    "institution_name": "Universitas Contoh Yogyakarta",
    "programme": "Bachelor of Agriculture",
    "study_start": "2026-08-01",
    "study_end": "2030-06-30",
    "duration_months": 48,
    "sponsor_kind": "institution",
    "sponsor_name": "Universitas Contoh Yogyakarta",
    "sponsor_email": "hr@employer.co.id",  # the tests' sponsor account
}
STUDENT_DOCUMENTS = {
    "passport_scan": "doc-1",
    "photo": "doc-2",
    "acceptance_letter": "doc-3",
    "study_recommendation": "doc-4",
    "proof_of_funds": "doc-5",
    "funds_usd": 2500,
    "insurance": "doc-6",
}


def investor_data(element_id: str, **overrides: Any) -> dict[str, Any]:
    """Valid data for a user task of the investor diagram (its own steps, else the shared steps'), with overrides."""
    own: dict[str, dict[str, Any]] = {
        "investor_applicant_data": INVESTOR_APPLICANT,
        "investment_data": INVESTMENT,
        "investor_documents": INVESTOR_DOCUMENTS,
        "check_shareholding": {"shareholding_decision": "matches"},
    }
    if element_id in own:
        return {**own[element_id], **overrides}
    return shared_step_data(element_id, **overrides)


def student_data(element_id: str, **overrides: Any) -> dict[str, Any]:
    """Valid data for a user task of the student diagram (its own steps, else the shared steps'), with overrides."""
    own: dict[str, dict[str, Any]] = {
        "student_applicant_data": STUDENT_APPLICANT,
        "study_data": STUDY,
        "student_sponsor_confirmation": {"sponsor_decision": "confirm"},
        "student_documents": STUDENT_DOCUMENTS,
    }
    if element_id in own:
        return {**own[element_id], **overrides}
    return shared_step_data(element_id, **overrides)
