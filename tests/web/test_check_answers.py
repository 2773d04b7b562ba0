"""Check your answers before the case leaves the applicant, a sent step read again, her own answers on her
status page, and the form rules' messages next to their fields (what was typed kept)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kitas.extensions import db
from kitas.services import cases
from tests.uploads import jpeg_bytes
from tests.web.pages import (
    case_of,
    check_url,
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
    verified(users["applicant"])
    return login_as(users["applicant"])


def _two_steps_sent(client: Any, users: dict[str, Any]) -> Any:
    application = start_worker_case(client, users["applicant"])
    assert post_form(client, task_url(application, "applicant_data"), APPLICANT_DATA).status_code == 302
    response = post_form(client, task_url(application, "employment_data"), EMPLOYMENT_DATA)
    assert response.status_code == 302 and response.headers["Location"].endswith("/check")
    return application


def test_the_summary_lists_every_answer_with_change_links_and_sending_goes_on(
    applicant: Any, users: dict[str, Any]
) -> None:
    application = _two_steps_sent(applicant, users)
    assert case_of(users["applicant"]).status == "draft"  # not sent on yet
    page = applicant.get(check_url(application, "employment_data")).get_data(as_text=True)
    for value in ("Ana Lima", "FZ1234567", "ana@example.org", "PT Contoh Teknologi", "RPTKA-2026-00042", "Acme Ltda"):
        assert value in page
    assert 'data-testid="change-applicant_data"' in page and 'data-testid="change-employment_data"' in page
    # The dashboard's "continue" comes back to the summary, not to the form again.
    assert applicant.get(f"/applications/{application.reference}/next").headers["Location"].endswith("/check")
    confirm_answers(applicant, application, "employment_data")
    assert case_of(users["applicant"]).status == "awaiting_sponsor"


def test_a_change_link_opens_the_step_with_its_answers_and_saving_returns_to_the_summary(
    applicant: Any, users: dict[str, Any]
) -> None:
    application = _two_steps_sent(applicant, users)
    summary = applicant.get(check_url(application, "employment_data")).get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-testid="change-applicant_data"', summary)
    assert link is not None
    form = applicant.get(link.group(1)).get_data(as_text=True)
    assert 'value="Ana Lima"' in form and 'value="FZ1234567"' in form
    # A bad change is refused next to its field, what was typed kept.
    bad = post_form(
        applicant, link.group(1), {**APPLICANT_DATA, "full_name": "Ana Maria Lima", "date_of_birth": "2099-01-01"}
    )
    assert bad.status_code == 422 and form_errors(bad) == ["Enter a date in the past."]
    assert 'value="Ana Maria Lima"' in bad.get_data(as_text=True)
    saved = post_form(applicant, link.group(1), {**APPLICANT_DATA, "full_name": "Ana Maria Lima"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/check")
    again = applicant.get(check_url(application, "employment_data")).get_data(as_text=True)
    assert "Ana Maria Lima" in again
    confirm_answers(applicant, application, "employment_data")
    assert cases.read_runtime(case_of(users["applicant"])).data["full_name"] == "Ana Maria Lima"


def test_confirming_checks_every_form_again_with_the_changes(applicant: Any, users: dict[str, Any]) -> None:
    application = _two_steps_sent(applicant, users)
    url = check_url(application, "employment_data") + "/applicant_data"
    # A passport that now ends too soon for the 12-month contract (plus 6 months): only confirming sees both.
    assert post_form(applicant, url, {**APPLICANT_DATA, "passport_expiry": "2027-01-31"}).status_code == 302
    response = applicant.post(check_url(application, "employment_data"), data={})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-testid="check-problems"' in page and "6 months after the stay ends" in page
    assert case_of(users["applicant"]).status == "draft"


def test_the_documents_are_in_the_summary_before_payment(applicant: Any, users: dict[str, Any], login_as: Any) -> None:
    application = start_worker_case(applicant, users["applicant"])
    fill_until_sponsor(applicant, application)
    sponsor = login_as(users["sponsor"])
    post_form(sponsor, task_url(application, "sponsor_confirmation", "/sponsor"), {"sponsor_decision": "confirm"})
    client = login_as(users["applicant"])
    assert post_form(client, task_url(application, "document_checklist"), good_documents()).status_code == 302
    page = client.get(check_url(application, "document_checklist")).get_data(as_text=True)
    for name, _content in good_documents().values():
        assert name in page
    assert "Ana Lima" in page and 'data-testid="change-document_checklist"' in page
    assert 'data-testid="change-applicant_data"' not in page  # the sponsor confirmed those already
    confirm_answers(client, application, "document_checklist")
    assert case_of(users["applicant"]).status == "awaiting_payment"


def test_a_sent_step_opened_again_shows_its_answers_read_only(applicant: Any, users: dict[str, Any]) -> None:
    application = start_worker_case(applicant, users["applicant"])
    url = task_url(application, "applicant_data")
    assert post_form(applicant, url, APPLICANT_DATA).status_code == 302
    response = applicant.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="answered-step"' in page
    assert "Ana Lima" in page and "FZ1234567" in page and "<input" not in page.split('data-testid="answered-step"')[1]
    assert "Someone else" not in page and "already completed" not in page


def test_another_applicant_still_gets_nothing_of_a_sent_step(
    applicant: Any, users: dict[str, Any], login_as: Any
) -> None:
    application = start_worker_case(applicant, users["applicant"])
    url = task_url(application, "applicant_data")
    post_form(applicant, url, APPLICANT_DATA)
    verified(users["other_applicant"])
    assert login_as(users["other_applicant"]).get(url).status_code == 404


def test_the_status_page_shows_her_own_answers_and_documents(
    applicant: Any, users: dict[str, Any], login_as: Any
) -> None:
    application = start_worker_case(applicant, users["applicant"])
    fill_until_sponsor(applicant, application)
    page = applicant.get(f"/applications/{application.reference}").get_data(as_text=True)
    own = page.split('data-testid="own-answers"')[1]
    assert "Ana Lima" in own and "PT Contoh Teknologi" in own


def test_rule_messages_stand_next_to_their_fields_and_keep_what_was_typed(
    applicant: Any, users: dict[str, Any]
) -> None:
    application = start_worker_case(applicant, users["applicant"])
    url = task_url(application, "applicant_data")
    response = post_form(
        applicant, url, {**APPLICANT_DATA, "date_of_birth": "2015-02-01", "passport_expiry": "2025-12-31"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="date_of_birth-error"' in page and 'id="passport_expiry-error"' in page
    assert "an applicant must be 16 to 100 years old" in page and "Enter a date after today." in page
    assert 'value="2015-02-01"' in page and 'value="2025-12-31"' in page
    assert post_form(applicant, url, APPLICANT_DATA).status_code == 302
    rows = [{"name": "Acme Ltda", "country": "BR", "from_year": 2024, "to_year": 2030}]
    response = post_form(
        applicant, task_url(application, "employment_data"), {**EMPLOYMENT_DATA, "previous_employers": rows}
    )
    assert response.status_code == 422
    assert 'id="previous_employers-0-to_year-error"' in response.get_data(as_text=True)
    assert form_errors(response) == ["Enter a year no later than 2026."]


def test_rule_messages_in_indonesian(applicant: Any, users: dict[str, Any]) -> None:
    users["applicant"].language = "id"
    db.session.commit()
    application = start_worker_case(applicant, users["applicant"])
    response = post_form(
        applicant, task_url(application, "applicant_data"), {**APPLICANT_DATA, "date_of_birth": "2099-01-01"}
    )
    assert response.status_code == 422 and form_errors(response) == ["Masukkan tanggal yang sudah lewat."]


def test_the_photo_rules_are_enforced_not_only_hinted(applicant: Any, users: dict[str, Any], login_as: Any) -> None:
    application = start_worker_case(applicant, users["applicant"])
    fill_until_sponsor(applicant, application)
    post_form(
        login_as(users["sponsor"]),
        task_url(application, "sponsor_confirmation", "/sponsor"),
        {"sponsor_decision": "confirm"},
    )
    client = login_as(users["applicant"])
    url = task_url(application, "document_checklist")
    small = {**good_documents(), "photo": ("photo.jpg", jpeg_bytes((120, 160)))}
    response = post_form(client, url, small)
    assert response.status_code == 422
    assert 'id="photo-error"' in response.get_data(as_text=True)
    assert any(
        "it must be at least 300 x 400 pixels" in e or "between 10 kB and 2000 kB" in e for e in form_errors(response)
    )
    png = {"photo": ("photo.png", good_documents()["sponsor_letter"][1])}
    assert form_errors(post_form(client, url, png)) == ["Upload this picture as JPEG."]
    assert post_form(client, url, {"photo": good_documents()["photo"]}).status_code == 302
    assert open_task_row(application.id, "document_checklist").draft["photo"]
