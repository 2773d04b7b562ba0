"""The case diagram pages: the officer's (the path, each step's data, the JSON the viewer draws), the studio's
(the same path without data), another office's officer refused, the studio's case search, and the
applicant's journey on her status page, in both languages."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from kitas.extensions import db
from kitas.models import Application
from kitas.services import cases
from tests.factories import make_user
from tests.services.helpers import complete, request_corrections, start_until_payment
from tests.web.pages import task_url
from tests.web.test_pages_in_indonesian import INDONESIAN, read
from tests.worker_data import PAYMENT

pytestmark = pytest.mark.usefixtures("worker")


def _text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def _paid(users: dict[str, Any]) -> Application:
    application = start_until_payment(users)
    return cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")


def test_the_officer_sees_the_case_on_its_diagram_with_each_steps_data(users: dict[str, Any], login_as: Any) -> None:
    application = _paid(users)
    client = login_as(users["verifier"])
    case_page = _text(client.get(f"/officer/cases/{application.reference}"))
    assert f'href="/officer/cases/{application.reference}/diagram"' in case_page
    task_page = _text(client.get(task_url(application, "verify_documents", "/officer")))
    assert 'data-testid="case-diagram-link"' in task_page
    response = client.get(f"/officer/cases/{application.reference}/diagram")
    page = _text(response)
    assert response.status_code == 200
    assert f"Case {application.reference} on its diagram" in page
    assert "the version this case runs on" in page
    steps = re.findall(r'data-testid="path-step" data-element="([^"]+)"', page)
    assert steps[:4] == ["applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"]
    assert 'data-testid="current-step" data-element="verify_documents"' in page
    assert 'data-testid="waiting-timer" data-element="verify_sla"' in page
    assert page.count('data-testid="step-data"') >= 4 and "What this step holds" in page
    assert "Ana Applicant (applicant)" in page  # who did it, for officers
    # The drawing is an enhancement: hidden until the script fetches its JSON.
    assert re.search(r'<section class="case-diagram[^"]*"[^>]* hidden>', page)
    assert f'data-url="/officer/cases/{application.reference}/diagram.json"' in page
    assert "bpmn-navigated-viewer.production.min.js" in page and "js/case-diagram.js" in page
    assert "<script>" not in page
    data = client.get(f"/officer/cases/{application.reference}/diagram.json").get_json()
    assert [d["process"] for d in data["diagrams"]][:2] == ["kitas_worker", "shared_payment"]
    assert data["calls"]["call_payment"] == "shared_payment"
    assert "verify_documents" in data["marks"]["current"] and data["marks"]["timers"] == ["verify_sla"]
    assert ["document_checklist", "call_payment"] in data["marks"]["flows"]
    assert "applicant_data" in data["marks"]["taken"]
    assert "Ana Applicant" not in str(data)  # the JSON carries no task data


def test_the_officers_page_in_indonesian(users: dict[str, Any], login_as: Any) -> None:
    application = _paid(users)
    users["verifier"].language = None  # the browser's language decides
    db.session.commit()
    client = login_as(users["verifier"])
    page = unescape(read(client, f"/officer/cases/{application.reference}/diagram", INDONESIAN))
    assert "Langkah sejauh ini" in page and "Unggah dokumen" in page and "Verifikasi dokumen" in page
    assert "Steps so far" not in page
    data = client.get(f"/officer/cases/{application.reference}/diagram.json", headers=INDONESIAN).get_json()
    assert 'name="Unggah dokumen"' in data["diagrams"][0]["xml"]


def test_another_offices_officer_and_the_applicant_get_404(users: dict[str, Any], login_as: Any) -> None:
    application = _paid(users)
    bali = make_user("verifier", email="dewi@imigrasi.example", offices=("DPS",))
    client = login_as(bali)
    for url in (
        f"/officer/cases/{application.reference}/diagram",
        f"/officer/cases/{application.reference}/diagram.json",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Ana Applicant" not in _text(response)
    applicant = login_as(users["applicant"])
    assert applicant.get(f"/officer/cases/{application.reference}/diagram").status_code == 403
    assert applicant.get(f"/studio/cases/{application.reference}/diagram").status_code == 403
    admin = login_as(users["admin"])
    assert admin.get(f"/officer/cases/{application.reference}/diagram").status_code == 200


def test_the_analyst_sees_the_path_without_the_data(users: dict[str, Any], login_as: Any) -> None:
    application = _paid(users)
    client = login_as(users["analyst"])
    page = _text(client.get(f"/studio/cases/{application.reference}/diagram"))
    assert f"Case {application.reference} on its diagram" in page
    steps = re.findall(r'data-testid="path-step" data-element="([^"]+)"', page)
    assert steps[:4] == ["applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"]
    assert 'data-testid="current-step" data-element="verify_documents"' in page
    assert 'data-testid="step-data"' not in page and "Ana Applicant" not in page and "PT Employer HR" not in page
    assert "the applicant" in page
    assert f'data-url="/studio/cases/{application.reference}/diagram.json"' in page
    data = client.get(f"/studio/cases/{application.reference}/diagram.json").get_json()
    assert "verify_documents" in data["marks"]["current"]
    assert client.get("/studio/cases/E23-2026-NOSUCHXX/diagram").status_code == 404
    # The officers' page is not the studio's.
    assert client.get(f"/officer/cases/{application.reference}/diagram").status_code == 403


def test_the_studio_finds_a_case_and_lists_a_versions_cases(users: dict[str, Any], login_as: Any) -> None:
    application = _paid(users)
    client = login_as(users["analyst"])
    index = _text(client.get("/studio/"))
    assert 'data-testid="case-search"' in index and 'action="/studio/cases"' in index
    found = client.get(f"/studio/cases?reference=+{application.reference}+")
    assert found.status_code == 302 and found.headers["Location"].endswith(
        f"/studio/cases/{application.reference}/diagram"
    )
    missing = client.get("/studio/cases?reference=E23-NOPE")
    page = _text(missing)
    assert missing.status_code == 404 and "No case has the register number E23-NOPE." in page
    assert 'value="E23-NOPE"' in page and 'aria-invalid="true"' in page
    empty = _text(client.get("/studio/cases?reference="))
    assert "Type the register number of a case." in empty
    listing = _text(client.get("/studio/cases"))
    link = re.search(r'href="(/studio/processes/kitas_worker/versions/(\d+)/cases)"', listing)
    assert link, listing
    cases_page = _text(client.get(link.group(1)))
    assert f'href="/studio/cases/{application.reference}/diagram"' in cases_page
    assert "Paid, in verification" in cases_page
    assert client.get("/studio/processes/kitas_worker/versions/99/cases").status_code == 404


def test_the_applicants_journey_is_marked_from_the_diagram(users: dict[str, Any], login_as: Any) -> None:
    application = _paid(users)
    application = request_corrections(application.id, users["verifier"], "The passport scan is blurred.")
    client = login_as(users["applicant"])
    page = _text(client.get(f"/applications/{application.reference}"))
    marks = dict(re.findall(r'data-testid="journey-step" data-element="([^"]+)" data-state="([^"]+)"', page))
    assert marks["document_checklist"] == "done" and marks["verify_documents"] == "done"
    assert marks["submit_corrections"] == "now" and marks["supervisor_approval"] == "next"
    assert 'data-state="now" aria-current="step"' in page
    assert "Your steps" in page and "Upload documents" in page and 'class="steps' not in page  # not twice
    assert "the immigration office" in page
    fragment = _text(client.get(f"/applications/{application.reference}/timeline"))  # the block that refreshes
    assert 'data-testid="journey"' in fragment
    users["applicant"].language = None
    db.session.commit()
    indonesian = unescape(read(client, f"/applications/{application.reference}", INDONESIAN))
    assert "Langkah Anda" in indonesian and "Unggah dokumen" in indonesian and "Your steps" not in indonesian
    other = login_as(users["other_applicant"])
    assert other.get(f"/applications/{application.reference}").status_code == 404
    complete(application.id, "submit_corrections", users["applicant"])
