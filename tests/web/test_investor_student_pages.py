"""The investor's and the student's forms through the pages: impossible answers refused next to their field
in plain words, with what was typed kept; a whole student case through the services, the sponsor included."""

from __future__ import annotations

from typing import Any

import pytest

from kitas.services import cases
from kitas.services.deployments import deploy_path
from tests.conftest import ROOT, deploy_shared_steps
from tests.types_data import INVESTMENT, INVESTOR_APPLICANT, STUDENT_APPLICANT, STUDY, investor_data, student_data
from tests.web.pages import case_of, form_errors, open_task_row, post_form, task_url, verified

FORMS = ROOT / "forms" / "schemas"


@pytest.fixture()
def types(ctx: Any) -> None:
    """The investor and student diagrams deployed from the repository (with the shared steps they call)."""
    deploy_shared_steps()
    for name in ("kitas_investor", "kitas_student"):
        deploy_path(ROOT / "bpmn" / f"{name}.bpmn", FORMS)


@pytest.fixture()
def applicant(users: dict[str, Any], login_as: Any, types: None) -> Any:
    verified(users["applicant"])
    return login_as(users["applicant"])


def _start(client: Any, users: dict[str, Any], code: str) -> Any:
    response = client.post(f"/applications/new/{code}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return case_of(users["applicant"])


def _through(client: Any, application: Any, element_id: str, data: dict[str, Any]) -> None:
    response = post_form(client, task_url(application, element_id), data)
    assert response.status_code == 302, form_errors(response)


def test_an_investor_duration_the_type_does_not_offer_is_refused_with_the_input_kept(
    applicant: Any, users: dict[str, Any]
) -> None:
    application = _start(applicant, users, "investor")
    assert application.reference.startswith("E28A-")
    _through(applicant, application, "investor_applicant_data", INVESTOR_APPLICANT)
    url = task_url(application, "investment_data")
    response = post_form(applicant, url, {**INVESTMENT, "duration_months": 48, "company_name": "PT Kopi Nusantara"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert form_errors(response) == ["An investor KITAS is not issued for 48 months; choose 12, 24 months."]
    assert 'value="PT Kopi Nusantara"' in page and f'value="{INVESTMENT["nib_number"]}"' in page
    assert open_task_row(application.id, "investment_data")  # still waiting for a good answer


def test_shares_below_the_catalogs_minimum_are_refused(applicant: Any, users: dict[str, Any]) -> None:
    application = _start(applicant, users, "investor")
    _through(applicant, application, "investor_applicant_data", INVESTOR_APPLICANT)
    url = task_url(application, "investment_data")
    response = post_form(applicant, url, {**INVESTMENT, "share_value_idr": 9_500_000_000})
    assert response.status_code == 422
    assert form_errors(response) == [
        "An investor KITAS needs shares worth at least Rp 10.000.000.000; the deed states Rp 9.500.000.000."
    ]
    assert 'value="9500000000"' in response.get_data(as_text=True)


def test_a_passport_expiring_before_the_stay_is_refused_with_the_input_kept(
    applicant: Any, users: dict[str, Any]
) -> None:
    application = _start(applicant, users, "student")
    # Valid for 12 + 6 months from 5 January 2026, not for 48 + 6.
    _through(applicant, application, "student_applicant_data", {**STUDENT_APPLICANT, "passport_expiry": "2027-12-31"})
    url = task_url(application, "study_data")
    response = post_form(applicant, url, {**STUDY, "programme": "Bachelor of Forestry"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    (message,) = form_errors(response)
    assert "the passport must be valid until at least" in message and "6 months after the stay ends" in message
    assert 'value="Bachelor of Forestry"' in page and f'value="{STUDY["sponsor_email"]}"' in page


def test_a_student_duration_not_offered_or_not_covering_the_studies_is_refused(
    applicant: Any, users: dict[str, Any]
) -> None:
    application = _start(applicant, users, "student")
    _through(applicant, application, "student_applicant_data", STUDENT_APPLICANT)
    url = task_url(application, "study_data")
    response = post_form(applicant, url, {**STUDY, "duration_months": 36})
    assert response.status_code == 422
    assert form_errors(response) == ["A student KITAS is not issued for 36 months; choose 12, 24, 48 months."]
    response = post_form(applicant, url, {**STUDY, "duration_months": 24})
    (message,) = form_errors(response)
    assert "before your studies end" in message and "Choose a longer stay." in message
    response = post_form(applicant, url, {**STUDY, "study_start": "2027-09-01", "study_end": "2027-08-01"})
    assert "The studies must end after they start" in " ".join(form_errors(response))


def test_the_student_chooses_the_index_and_the_sponsor_confirms_from_their_account(
    users: dict[str, Any], types: None
) -> None:
    application = cases.start_case("student", users["applicant"], index_code="E30A")
    for element, user in (
        ("student_applicant_data", users["applicant"]),
        ("study_data", users["applicant"]),
    ):
        task = open_task_row(application.id, element)
        extra = {"index_code": "E30A", "duration_months": 48} if element == "study_data" else {}
        application = cases.complete_task(application.id, task.task_id, user, student_data(element, **extra))
    assert application.status == "awaiting_sponsor" and application.sponsor_email == STUDY["sponsor_email"]
    task = open_task_row(application.id, "student_sponsor_confirmation")
    assert task.role == "sponsor"
    application = cases.complete_task(application.id, task.task_id, users["sponsor"], student_data(task.element_id))
    assert application.status == "awaiting_documents"


def test_an_investor_case_goes_to_the_shareholding_check_after_payment(users: dict[str, Any], types: None) -> None:
    from tests.worker_data import PAYMENT

    application = cases.start_case("investor", users["applicant"])
    for element in ("investor_applicant_data", "investment_data", "investor_documents"):
        task = open_task_row(application.id, element)
        application = cases.complete_task(application.id, task.task_id, users["applicant"], investor_data(element))
    assert application.status == "awaiting_payment"
    application = cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    task = open_task_row(application.id, "check_shareholding")
    assert task.role == "verifier" and application.status == "in_verification"


def test_the_refusals_read_in_indonesian_with_the_numbers_in_place(applicant: Any, users: dict[str, Any]) -> None:
    from kitas.extensions import db

    users["applicant"].language = "id"
    db.session.commit()
    application = _start(applicant, users, "investor")
    _through(applicant, application, "investor_applicant_data", INVESTOR_APPLICANT)
    url = task_url(application, "investment_data")
    response = post_form(applicant, url, {**INVESTMENT, "duration_months": 48, "share_value_idr": 9_500_000_000})
    assert response.status_code == 422
    assert form_errors(response) == [
        "ITAS Investasi memerlukan saham senilai paling sedikit Rp 10.000.000.000; akta menyebutkan Rp 9.500.000.000.",
        "ITAS Investasi tidak diterbitkan untuk 48 bulan; pilih 12, 24 bulan.",
    ]
