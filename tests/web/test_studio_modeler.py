"""The modeler's routes: the draft's diagram read and saved (revisions, conflicts, bad XML) and its problems."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

from flask import Flask

from kitas.extensions import db
from kitas.models import StudioDraft

BROKEN = Path(__file__).resolve().parent.parent / "data" / "modeler_broken_script.bpmn"


def _draft_of_worker(client: Any) -> StudioDraft:
    assert client.post("/studio/processes/kitas_worker/draft").status_code == 302
    return db.session.scalars(db.select(StudioDraft)).one()


def _moved(xml: str) -> str:
    """The diagram with its first shape moved 40 px to the right (as dragging it in the modeler does)."""
    match = re.search(r'(<dc:Bounds x=")(\d+(?:\.\d+)?)', xml)
    assert match, "the diagram has no shape"
    return xml[: match.start(2)] + str(float(match.group(2)) + 40) + xml[match.end(2) :]


def test_the_draft_page_carries_what_the_modeler_needs(worker: int, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    draft = _draft_of_worker(client)
    page = html.unescape(client.get(f"/studio/drafts/{draft.id}").get_data(as_text=True))
    assert "data-studio-modeler" in page and f'data-revision="{draft.revision}"' in page
    assert f'data-save-url="/studio/drafts/{draft.id}/diagram"' in page
    assert f'data-lint-url="/studio/drafts/{draft.id}/lint"' in page
    assert "vendor/studio/modeler.js" in page and "Save now" in page and "Alex Analyst" in page
    # The draft's files are listed for the form and decision-table editors.
    assert 'data-file="worker-applicant-data.schema.json"' in page
    response = client.get(f"/studio/drafts/{draft.id}/diagram.bpmn")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.get_data(as_text=True) == draft.bpmn_xml
    assert 'filename="kitas_worker.bpmn"' in response.headers["Content-Disposition"]


def test_a_save_on_the_current_revision_is_kept_and_served_back(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    draft = _draft_of_worker(client)
    changed = _moved(draft.bpmn_xml)
    response = client.post(f"/studio/drafts/{draft.id}/diagram", json={"revision": draft.revision, "xml": changed})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["revision"] == 2 and answer["saved_by"] == "Alex Analyst"
    assert answer["status"].startswith("Saved at ") and answer["saved_at"]
    assert client.get(f"/studio/drafts/{draft.id}/diagram.bpmn").get_data(as_text=True) == changed


def test_a_save_on_a_stale_revision_is_refused_with_who_saved_and_nothing_is_overwritten(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    first = login_as(users["analyst"])
    draft = _draft_of_worker(first)
    theirs = _moved(draft.bpmn_xml)
    assert first.post(f"/studio/drafts/{draft.id}/diagram", json={"revision": 1, "xml": theirs}).status_code == 200
    second = login_as(users["admin"])
    response = second.post(f"/studio/drafts/{draft.id}/diagram", json={"revision": 1, "xml": _moved(theirs)})
    assert response.status_code == 409
    message = response.get_json()["message"]
    assert message.startswith("Alex Analyst") and "saved this draft at" in message and "reload" in message
    assert "WIB" in message  # the time in the reader's zone, not UTC
    assert second.get(f"/studio/drafts/{draft.id}/diagram.bpmn").get_data(as_text=True) == theirs


def test_the_conflict_is_told_in_the_readers_language(worker: int, users: dict[str, Any], login_as: Any) -> None:
    users["analyst"].language = None  # the browser's language decides
    db.session.commit()
    client = login_as(users["analyst"])
    draft = _draft_of_worker(client)
    assert client.post(f"/studio/drafts/{draft.id}/diagram", json={"revision": 1, "xml": draft.bpmn_xml}).status_code
    response = client.post(
        f"/studio/drafts/{draft.id}/diagram",
        json={"revision": 1, "xml": draft.bpmn_xml},
        headers={"Accept-Language": "id"},
    )
    assert response.status_code == 409
    assert "Alex Analyst" in response.get_json()["message"]
    assert "menyimpan draf ini" in response.get_json()["message"]


def test_bad_xml_is_refused_with_the_reason_and_nothing_is_saved(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    draft = _draft_of_worker(client)
    before = draft.bpmn_xml
    cases = [
        ("<bpmn:definitions", "The file is not XML (line 1)"),
        ("<html><body>hi</body></html>", "not a BPMN 2.0 diagram"),
    ]
    for xml, reason in cases:
        response = client.post(f"/studio/drafts/{draft.id}/diagram", json={"revision": 1, "xml": xml})
        assert response.status_code == 422 and reason in response.get_json()["message"]
    for body in ({"revision": "1", "xml": before}, {"xml": before}, {"revision": 1}):
        response = client.post(f"/studio/drafts/{draft.id}/diagram", json=body)
        assert response.status_code == 400 and "Reload the page" in response.get_json()["message"]
    db.session.expire_all()
    saved = db.session.get(StudioDraft, draft.id)
    assert saved is not None and saved.revision == 1 and saved.bpmn_xml == before


def test_the_lint_answer_names_each_element_with_its_problem(ctx: Flask, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    response = client.post("/studio/import", data={"file": (io.BytesIO(BROKEN.read_bytes()), "broken.bpmn")})
    assert response.status_code == 302
    draft = db.session.scalars(db.select(StudioDraft)).one()
    report = client.get(f"/studio/drafts/{draft.id}/lint").get_json()
    assert report["process_id"] == "modeler_broken" and report["imports"] is True and report["deployable"] is False
    assert report["summary"] == "Cannot be deployed yet: 1 error"
    [problem] = [p for p in report["problems"] if p["severity"] == "error"]
    assert problem["element"] == "compute_fee" and problem["rule"] == "engine"
    assert "was never closed" in problem["message"]
    # Warnings name their element too (the lint's modeling and KITAS rules), each with a rule and words.
    assert all(p["element"] and p["rule"] and p["message"] for p in report["problems"])


def test_a_deployable_draft_says_so(worker: int, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    draft = _draft_of_worker(client)
    report = client.get(f"/studio/drafts/{draft.id}/lint").get_json()
    assert report["process_id"] == "kitas_worker" and report["imports"] is True and report["deployable"] is True
    assert report["summary"] == "Can be deployed"
    # What is left are warnings: the shipped interview has no SLA timer (lint rule kitas/sla-timer).
    assert {p["severity"] for p in report["problems"]} <= {"warning"}


def test_saving_needs_the_csrf_token_the_page_carries(
    worker: int, users: dict[str, Any], login_as: Any, csrf_on: None
) -> None:
    client = login_as(users["analyst"])
    page = client.get("/studio/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    assert client.post("/studio/processes/kitas_worker/draft", data={"csrf_token": token.group(1)}).status_code == 302
    draft = db.session.scalars(db.select(StudioDraft)).one()
    page = client.get(f"/studio/drafts/{draft.id}").get_data(as_text=True)
    token = re.search(r'data-csrf-token="([^"]+)"', page)
    assert token
    body = {"revision": 1, "xml": draft.bpmn_xml}
    assert client.post(f"/studio/drafts/{draft.id}/diagram", json=body).status_code == 400
    response = client.post(f"/studio/drafts/{draft.id}/diagram", json=body, headers={"X-CSRFToken": token.group(1)})
    assert response.status_code == 200


def test_only_analysts_and_admins_reach_the_modeler(worker: int, users: dict[str, Any], login_as: Any) -> None:
    draft = _draft_of_worker(login_as(users["analyst"]))
    urls = [f"/studio/drafts/{draft.id}/diagram.bpmn", f"/studio/drafts/{draft.id}/lint"]
    for role in ("verifier", "supervisor", "applicant", "sponsor"):
        client = login_as(users[role])
        for url in urls:
            assert client.get(url).status_code == 403
        body = {"revision": 1, "xml": draft.bpmn_xml}
        assert client.post(f"/studio/drafts/{draft.id}/diagram", json=body).status_code == 403
    admin = login_as(users["admin"])
    assert all(admin.get(url).status_code == 200 for url in urls)
    assert login_as(users["analyst"]).get("/studio/drafts/999999/lint").status_code == 404
