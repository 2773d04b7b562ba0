"""The applicant's pages: dashboard, starting, task forms with drafts and errors, uploads, status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, Document, HumanTask
from kitas.services import cases
from tests.factories import make_office, make_slot, make_user
from tests.services.helpers import complete, request_corrections, start_until_verification
from tests.uploads import exe_bytes, truncated_pdf
from tests.web.pages import (
    case_of,
    confirm_answers,
    fill_until_sponsor,
    form_errors,
    good_documents,
    open_task_row,
    post_form,
    start_worker_case,
    task_url,
    verified,
)
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture()
def applicant(users: dict[str, Any], login_as: Any) -> Any:
    """The signed-in, verified applicant's client."""
    verified(users["applicant"])
    return login_as(users["applicant"])


def test_unverified_applicant_cannot_start(users: dict[str, Any], login_as: Any) -> None:
    client = login_as(make_user("applicant", email="new@example.org", name="New Person"))
    response = client.post("/applications/new/worker", follow_redirects=True)
    assert "Confirm your e-mail address first" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(HumanTask)) == 0


def test_start_opens_the_first_step(applicant: Any, users: dict[str, Any]) -> None:
    response = applicant.post("/applications/new/worker", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Applicant details" in page and 'name="passport_number"' in page
    assert "Save and continue later" in page


def test_unknown_type_is_a_clear_404(applicant: Any) -> None:
    response = applicant.post("/applications/new/astronaut")
    assert response.status_code == 404
    assert "no KITAS type" in response.get_data(as_text=True)


def test_errors_stand_next_to_fields_and_input_is_kept(applicant: Any, users: dict[str, Any]) -> None:
    application = start_worker_case(applicant, users["applicant"])
    url = task_url(application, "applicant_data")
    bad = {**APPLICANT_DATA, "passport_number": "no spaces!", "date_of_birth": "", "full_name": "Ana Maria Lima"}
    response = post_form(applicant, url, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert len(form_errors(response)) == 2
    assert 'id="passport_number-error"' in page and 'id="date_of_birth-error"' in page
    assert 'value="no spaces!"' in page and 'value="Ana Maria Lima"' in page
    assert open_task_row(application.id, "applicant_data").element_id == "applicant_data"  # not completed


def test_save_and_continue_later_keeps_a_draft(applicant: Any, users: dict[str, Any]) -> None:
    application = start_worker_case(applicant, users["applicant"])
    url = task_url(application, "applicant_data")
    response = post_form(applicant, url, {"full_name": "Ana Draft", "passport_number": "half"}, action="save")
    assert response.status_code == 302
    page = applicant.get(url).get_data(as_text=True)
    assert 'value="Ana Draft"' in page and 'value="half"' in page and "Draft saved" in page
    assert open_task_row(application.id, "applicant_data").draft == {
        "full_name": "Ana Draft",
        "passport_number": "half",
    }


def test_rows_of_previous_employers_are_stored_and_row_errors_shown(applicant: Any, users: dict[str, Any]) -> None:
    application = start_worker_case(applicant, users["applicant"])
    post_form(applicant, task_url(application, "applicant_data"), APPLICANT_DATA)
    url = task_url(application, "employment_data")
    rows = [{"name": "Acme", "country": "BR", "from_year": 2015, "to_year": 2020}, {"name": "X", "country": "brazil"}]
    response = post_form(applicant, url, {**EMPLOYMENT_DATA, "previous_employers": rows})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="previous_employers-1-country-error"' in page
    assert 'value="brazil"' in page and 'value="Acme"' in page
    good = [rows[0], {"name": "Beta Ltd", "country": "SG", "from_year": 2020, "to_year": 2025}]
    assert post_form(applicant, url, {**EMPLOYMENT_DATA, "previous_employers": good}).status_code == 302
    confirm_answers(applicant, application, "employment_data")
    assert cases.read_runtime(case_of(users["applicant"])).data["previous_employers"][1]["name"] == "Beta Ltd"


def test_checklist_keeps_good_uploads_and_names_the_bad_ones(
    applicant: Any, users: dict[str, Any], login_as: Any
) -> None:
    application = start_worker_case(applicant, users["applicant"])
    fill_until_sponsor(applicant, application)
    sponsor = login_as(users["sponsor"])
    post_form(sponsor, task_url(application, "sponsor_confirmation", "/sponsor"), {"sponsor_decision": "confirm"})
    client = login_as(users["applicant"])
    url = task_url(application, "document_checklist")
    files = {
        **good_documents(),
        "passport_scan": ("passport.pdf", truncated_pdf()),
        "photo": ("photo.pdf", exe_bytes()),
    }
    response = post_form(client, url, files)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="passport_scan-error"' in page and 'id="photo-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Document)) == 4
    assert page.count("Uploaded</span>") == 4
    # Only the two refused ones are sent again; the four kept ones count.
    fixed = {"passport_scan": good_documents()["passport_scan"], "photo": good_documents()["photo"]}
    response = post_form(client, url, fixed)
    assert response.status_code == 302, form_errors(response)
    confirm_answers(client, application, "document_checklist")
    assert case_of(users["applicant"]).status == "awaiting_payment"


def test_a_document_id_from_the_browser_is_ignored(applicant: Any, users: dict[str, Any], login_as: Any) -> None:
    application = start_worker_case(applicant, users["applicant"])
    fill_until_sponsor(applicant, application)
    post_form(
        login_as(users["sponsor"]),
        task_url(application, "sponsor_confirmation", "/sponsor"),
        {"sponsor_decision": "confirm"},
    )
    client = login_as(users["applicant"])
    forged = {key: "someone-elses-document" for key in good_documents()}
    response = post_form(client, task_url(application, "document_checklist"), forged)
    assert response.status_code == 422
    assert len(form_errors(response)) == 6


def test_dashboard_shows_status_next_step_and_pages(applicant: Any, users: dict[str, Any]) -> None:
    for _ in range(22):
        cases.start_case("worker", users["applicant"])
    cases.start_case("worker", users["other_applicant"])
    first = applicant.get("/applications/").get_data(as_text=True)
    assert first.count('data-testid="status"') == 20
    assert "Fill in applicant data" in first and "Page 1 of 2 (22 in all)" in first
    second = applicant.get("/applications/?page=2").get_data(as_text=True)
    assert second.count('data-testid="status"') == 2
    assert applicant.get("/applications/?page=-3").status_code == 200


def test_status_page_shows_timeline_current_step_and_reason(users: dict[str, Any], login_as: Any) -> None:
    verified(users["applicant"])
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "The passport scan is blurred; upload a sharper one.")
    client = login_as(users["applicant"])
    page = client.get(f"/applications/{application.reference}").get_data(as_text=True)
    assert "Correction requested" in page
    assert "The passport scan is blurred" in page
    assert "Payment received" in page and "Now: Submit corrections" in page
    assert 'hx-trigger="every 5s"' in page
    fragment = client.get(f"/applications/{application.reference}/timeline")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "an immigration officer" in fragment.get_data(as_text=True)


def test_corrections_task_shows_the_officers_reason_read_only(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "Upload the RPTKA approval, not the draft.")
    client = login_as(users["applicant"])
    url = task_url(application, "submit_corrections")
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="readonly-verification_reason"' in page and "not the draft" in page
    response = post_form(client, url, {"correction_note": "Uploaded the approved RPTKA.", "verification_reason": "x"})
    assert response.status_code == 302
    assert case_of(users["applicant"]).status == "in_verification"


def test_another_applicants_case_is_404_and_audited(users: dict[str, Any], login_as: Any) -> None:
    application = cases.start_case("worker", users["applicant"])
    task = open_task_row(application.id, "applicant_data")
    client = login_as(users["other_applicant"])
    for url in (
        f"/applications/{application.reference}",
        f"/applications/{application.reference}/timeline",
        f"/applications/{application.reference}/tasks/{task.task_id}",
    ):
        assert client.get(url).status_code == 404
    assert (
        post_form(client, f"/applications/{application.reference}/tasks/{task.task_id}", APPLICANT_DATA).status_code
        == 404
    )
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert len(refused) == 4
    assert all(row.actor_id == users["other_applicant"].id for row in refused)


def test_a_stale_form_is_refused_with_the_input_kept(applicant: Any, users: dict[str, Any]) -> None:
    application = start_worker_case(applicant, users["applicant"])
    url = task_url(application, "applicant_data")
    typed = {**APPLICANT_DATA, "full_name": "Ana Typed Carefully", "version": application.version + 7}
    response = post_form(applicant, url, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The case changed since you opened it" in page and "What you typed is kept below" in page
    assert 'value="Ana Typed Carefully"' in page
    assert f'name="version" value="{application.version}"' in page  # sending it again now works
    typed["version"] = application.version
    assert post_form(applicant, url, typed).status_code == 302


def test_the_first_form_starts_with_what_the_account_says(applicant: Any, users: dict[str, Any]) -> None:
    users["applicant"].phone = "+6281234567890"
    users["applicant"].nationality = "BR"
    db.session.commit()
    page = applicant.post("/applications/new/worker", follow_redirects=True).get_data(as_text=True)
    assert 'value="Ana Applicant"' in page and 'value="ana@example.org"' in page
    assert 'value="+6281234567890"' in page and 'value="BR"' in page


def test_the_status_poll_does_not_keep_the_session_alive(applicant: Any, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    page = applicant.get(f"/applications/{application.reference}")
    assert "session=" in page.headers.get("Set-Cookie", "")  # a real visit renews the idle timeout
    poll = applicant.get(f"/applications/{application.reference}/timeline")
    assert poll.status_code == 200 and "Set-Cookie" not in poll.headers


def test_a_closed_case_stops_polling(users: dict[str, Any], login_as: Any) -> None:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    complete(
        application.id,
        "sponsor_confirmation",
        users["sponsor"],
        sponsor_decision="decline",
        sponsor_decline_reason="Unknown person.",
    )
    page = login_as(users["applicant"]).get(f"/applications/{application.reference}").get_data(as_text=True)
    assert "Declined by the sponsor" in page and "hx-trigger" not in page


def test_file_sizes_read_naturally(ctx: Any) -> None:
    from kitas.i18n import in_language
    from kitas.web.filters import file_size

    with in_language("en"):
        assert [file_size(300), file_size(86_000), file_size(2_500_000)] == ["300 bytes", "84 kB", "2.4 MB"]
    with in_language("id"):
        assert [file_size(300), file_size(2_500_000)] == ["300 byte", "2,4 MB"]


def test_the_booked_appointment_shows_where_and_when(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    complete(application.id, "verify_documents", users["verifier"])
    complete(application.id, "supervisor_approval", users["supervisor"])
    office = make_office(code="DPS", name="Kantor Imigrasi Denpasar", time_zone="Asia/Makassar")
    db.session.get(Application, application.id).office_id = office.id
    db.session.commit()
    slot = make_slot(office, datetime(2026, 2, 3, 2, 0, tzinfo=UTC))  # 10:00 WITA
    complete(application.id, "book_biometrics", users["applicant"], appointment_slot=slot.id)
    page = login_as(users["applicant"]).get(f"/applications/{application.reference}").get_data(as_text=True)
    assert "Biometrics appointment" in page
    assert "Tuesday, 3 February 2026 at 10:00 WITA, Kantor Imigrasi Denpasar" in page
    assert 'data-testid="status-reason"' not in page


def test_countries_are_chosen_by_name_and_a_bad_code_is_kept_and_explained(
    applicant: Any, users: dict[str, Any]
) -> None:
    application = start_worker_case(applicant, users["applicant"])
    url = task_url(application, "applicant_data")
    page = applicant.get(url).get_data(as_text=True)
    assert '<select class="form-select" id="f-nationality"' in page and '<option value="ID">Indonesia</option>' in page
    response = post_form(applicant, url, {**APPLICANT_DATA, "nationality": "brazil"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="nationality-error"' in page
    assert '<option value="brazil" selected>brazil</option>' in page
