"""The verifier's workspace and field-level corrections, through the pages: a tick needs a reason, the
applicant's correction step opens only the ticked fields and documents (checked as their own forms check
them), the next round opens empty with the previous request and what changed, notes stay with officers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent
from kitas.services.cases.unit_of_work import read_runtime
from tests.services.helpers import start_until_verification
from tests.uploads import pdf_bytes
from tests.web.pages import case_of, open_task_row, post_form, task_url

pytestmark = pytest.mark.usefixtures("worker")

DECISION = {"verification_decision": "corrections", "interview_required": False, "verification_reason": "Two fixes."}


def _rows(page: str) -> dict[str, int]:
    """The row index of each tick on the verifier's page, by item (``field:full_name``)."""
    return {key: int(i) for i, key in re.findall(r'name="correction_items-(\d+)-item" value="([^"]+)"', page)}


def _claimed_verify_page(client: Any, application: Any) -> tuple[str, str]:
    url = task_url(application, "verify_documents", "/officer")
    assert client.post(url + "/claim").status_code == 302
    return url, client.get(url).get_data(as_text=True)


def _ask(client: Any, url: str, rows: dict[str, int], ticks: dict[str, str]) -> Any:
    """Post a corrections decision ticking ``ticks`` (item -> reason; '' for no reason)."""
    form: dict[str, Any] = dict(DECISION)
    for key, index in rows.items():
        form[f"correction_items-{index}-item"] = key
        if key in ticks:
            form[f"correction_items-{index}-change"] = "true"
            form[f"correction_items-{index}-reason"] = ticks[key]
    return post_form(client, url, form)


def _case_data(application_id: int) -> dict[str, Any]:
    application = db.session.get(Application, application_id)
    assert application is not None
    return read_runtime(application).data


def test_a_tick_without_a_reason_is_refused_and_the_ticks_are_kept(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    client = login_as(users["verifier"])
    url, page = _claimed_verify_page(client, application)
    rows = _rows(page)
    assert {"field:full_name", "field:passport_number", "document:passport_scan"} <= set(rows)
    assert "field:verification_decision" not in rows  # only the applicant's answers can be ticked
    response = _ask(client, url, rows, {"field:full_name": "", "field:passport_number": "Missing a digit."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    name_row = rows["field:full_name"]
    assert f'id="correction_items-{name_row}-reason-error"' in html
    assert "Say why this must be corrected" in html
    assert f'href="#f-correction_items-{name_row}-reason">Reason for “Full name”' in html  # the summary names it
    assert re.search(rf'id="f-correction_items-{name_row}-change"[^>]*checked', html)  # the tick is kept
    assert 'value="Missing a digit."' in html  # and the other reason
    assert case_of(users["applicant"]).status == "in_verification"


def _round_one(users: dict[str, Any], login_as: Any) -> Any:
    application = start_until_verification(users)
    client = login_as(users["verifier"])
    url, page = _claimed_verify_page(client, application)
    ticks = {"field:full_name": "Write the name as in the passport.", "field:date_of_birth": "Check the year."}
    ticks["document:passport_scan"] = "The scan is blurred."
    response = _ask(client, url, _rows(page), ticks)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert case_of(users["applicant"]).status == "correction_requested"
    return application


def test_the_applicant_changes_only_the_ticked_fields(users: dict[str, Any], login_as: Any) -> None:
    application = _round_one(users, login_as)
    client = login_as(users["applicant"])
    url = task_url(application, "submit_corrections")
    page = client.get(url).get_data(as_text=True)
    # The ticked fields are open and prefilled, each with the officer's reason; the rest is read-only.
    assert re.search(r'<input[^>]*name="full_name"[^>]*value="Ana Lima"', page)
    assert 'data-testid="reason-full_name"' in page and "Write the name as in the passport." in page
    assert 'name="passport_scan"' in page and "The scan is blurred." in page
    assert 'name="passport_number"' not in page and "FZ1234567" in page  # shown, not editable
    assert 'data-testid="read-only-answers"' in page
    form = {
        "full_name": "Ana Maria Lima",
        "date_of_birth": "1990-04-02",
        "passport_number": "XX0000000",  # not asked: ignored
        "correction_note": "Name as in the passport, sharper scan.",
        "passport_scan": ("passport.pdf", pdf_bytes(pages=2)),
    }
    response = post_form(client, url, form)
    assert response.status_code == 302, response.get_data(as_text=True)
    data = _case_data(application.id)
    assert data["full_name"] == "Ana Maria Lima" and data["passport_number"] == "FZ1234567"
    assert case_of(users["applicant"]).status == "in_verification"
    assert case_of(users["applicant"]).name_search == "ana maria lima"  # the inbox searches the new name


def test_an_invalid_corrected_value_is_refused_with_its_error_and_kept(users: dict[str, Any], login_as: Any) -> None:
    application = _round_one(users, login_as)
    client = login_as(users["applicant"])
    url = task_url(application, "submit_corrections")
    form = {"full_name": "Ana Maria Lima", "date_of_birth": "2999-01-01", "correction_note": "Fixed both."}
    response = post_form(client, url, form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="date_of_birth-error"' in html and 'value="2999-01-01"' in html  # the original form's rule
    assert 'id="passport_scan-error"' in html and "asked for this document to be replaced" in html
    assert 'value="Ana Maria Lima"' in html
    assert _case_data(application.id)["full_name"] == "Ana Lima"  # nothing went into the case
    assert case_of(users["applicant"]).status == "correction_requested"


def test_the_second_round_opens_empty_and_shows_what_changed(users: dict[str, Any], login_as: Any) -> None:
    application = _round_one(users, login_as)
    old_scan = _case_data(application.id)["passport_scan"]
    applicant = login_as(users["applicant"])
    form = {
        "full_name": "Ana Maria Lima",
        "date_of_birth": "1990-04-02",
        "correction_note": "Name as in the passport.",
        "passport_scan": ("passport.pdf", pdf_bytes()),
    }
    assert post_form(applicant, task_url(application, "submit_corrections"), form).status_code == 302
    client = login_as(users["verifier"])
    url, page = _claimed_verify_page(client, application)
    assert not re.search(r'name="verification_decision"[^>]*checked', page)  # no decision chosen
    assert re.search(r'<textarea[^>]*name="verification_reason"[^>]*>\s*</textarea>', page)  # no reason
    assert not re.search(r'name="correction_items-\d+-change" value="true"[^>]*checked', page)  # no ticks
    previous = page.split('data-testid="previous-round"')[1].split('data-testid="answers-of-applicant"')[0]
    assert "Two fixes." in previous and "Write the name as in the passport." in previous
    changed = re.findall(r'data-testid="change-row">(.*?)</tr>', previous, re.S)
    assert len(changed) == 2  # the name and the scan; the date of birth stayed as it was
    assert "Ana Lima" in changed[0] and "Ana Maria Lima" in changed[0]
    new_scan = _case_data(application.id)["passport_scan"]
    assert new_scan != old_scan and "passport.pdf" in changed[1]
    assert "Name as in the passport." in previous  # her note


def test_internal_notes_stay_with_officers(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    client = login_as(users["verifier"])
    url = task_url(application, "verify_documents", "/officer")
    refused = client.post(url + "/notes", data={"note": "   "})
    assert refused.status_code == 422 and "Write the note before saving it." in refused.get_data(as_text=True)
    secret = "Sponsor phoned twice; check the contract date"
    assert client.post(url + "/notes", data={"note": secret}).status_code == 302
    officer_page = client.get(url).get_data(as_text=True)
    assert secret in officer_page and "Internal note added (officers only)" in officer_page  # in the history
    assert secret in login_as(users["supervisor"]).get(url).get_data(as_text=True)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "note_added")).all()
    assert len(audit) == 1 and secret not in str(audit[0].detail)
    applicant = login_as(users["applicant"])
    assert applicant.post(url + "/notes", data={"note": "mine"}).status_code == 403
    for address in (f"/applications/{application.reference}", f"/applications/{application.reference}/timeline"):
        page = applicant.get(address).get_data(as_text=True)
        assert secret not in page and "Internal note added" not in page  # not even that there is one
    export = applicant.get("/auth/profile/export")
    assert export.status_code == 200 and secret not in export.get_data(as_text=True)
    task = open_task_row(application.id, "verify_documents")
    assert task.task_id in url


def test_pdf_previews_are_for_officers_only(users: dict[str, Any], login_as: Any) -> None:
    application = _round_one(users, login_as)
    applicant = login_as(users["applicant"])
    form = {"full_name": "Ana Lima", "date_of_birth": "1990-04-02", "correction_note": "New scan."}
    form["passport_scan"] = ("passport.pdf", pdf_bytes(pages=2))
    assert post_form(applicant, task_url(application, "submit_corrections"), form).status_code == 302
    scan = _case_data(application.id)["passport_scan"]
    assert applicant.get(f"/documents/{scan}/pages/1.png").status_code == 404  # her own file, but no preview
    officer = login_as(users["verifier"])
    first = officer.get(f"/documents/{scan}/pages/1.png")
    assert first.status_code == 200 and first.data.startswith(b"\x89PNG")
    assert officer.get(f"/documents/{scan}/pages/1.png").data == first.data  # from the cache
    assert officer.get(f"/documents/{scan}/pages/3.png").status_code == 404  # a page it does not have
