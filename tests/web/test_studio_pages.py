"""The studio's process list and the import of a BPMN 2.0 file as a draft."""

from __future__ import annotations

import html
import io
from typing import Any

from flask import Flask

from kitas.extensions import db
from kitas.models import StudioDraft

TWO_PROCESSES = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:collaboration id="c"><bpmn:participant id="p1" name="Applicant side" processRef="first" />
  <bpmn:participant id="p2" processRef="second" /></bpmn:collaboration>
  <bpmn:process id="first"><bpmn:startEvent id="s1" /></bpmn:process>
  <bpmn:process id="second" isExecutable="false"><bpmn:startEvent id="s2" /></bpmn:process>
</bpmn:definitions>"""


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_analysts_see_every_deployed_process_and_open_a_draft_of_it(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    page = _text(client.get("/studio/"))
    assert 'data-process="kitas_worker"' in page and 'data-process="shared_payment"' in page
    assert page.index('data-process="kitas_worker"') < page.index('data-process="shared_payment"')
    response = client.post("/studio/processes/kitas_worker/draft")
    assert response.status_code == 302
    draft = db.session.scalars(db.select(StudioDraft)).one()
    assert draft.process_id == "kitas_worker" and "worker-applicant-data.schema.json" in draft.files
    assert not any(name.startswith("called/") for name in draft.files)
    # Opening it again continues the same draft.
    assert (
        client.post("/studio/processes/kitas_worker/draft").headers["Location"].endswith(f"/studio/drafts/{draft.id}")
    )


def test_a_file_of_several_processes_asks_which_one_then_imports_it(
    ctx: Flask, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    response = client.post("/studio/import", data={"file": (io.BytesIO(TWO_PROCESSES), "two.bpmn")})
    page = _text(response)
    assert response.status_code == 422 and 'data-testid="choose-process"' in page
    assert "Applicant side" in page and "marked not executable" in page
    response = client.post(
        "/studio/import", data={"file": (io.BytesIO(TWO_PROCESSES), "two.bpmn"), "process_id": "second"}
    )
    assert response.status_code == 302
    draft = db.session.scalars(db.select(StudioDraft)).one()
    assert draft.process_id == "second" and draft.source_name == "two.bpmn" and draft.base_definition_id is None


def test_files_that_are_not_bpmn_are_refused_with_the_reason(ctx: Flask, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    cases = [
        (b"", "The file is empty"),
        (b"<bpmn:definitions", "The file is not XML (line 1)"),
        (b"<html><body>hi</body></html>", "not a BPMN 2.0 diagram"),
    ]
    for data, reason in cases:
        response = client.post("/studio/import", data={"file": (io.BytesIO(data), "x.bpmn")})
        assert response.status_code == 422 and reason in _text(response)
    assert db.session.scalars(db.select(StudioDraft)).all() == []


def test_the_studio_is_for_analysts_and_admins(ctx: Flask, users: dict[str, Any], login_as: Any) -> None:
    assert login_as(users["verifier"]).get("/studio/").status_code == 403
    assert login_as(users["admin"]).get("/studio/").status_code == 200
    assert login_as(users["analyst"]).get("/").headers["Location"].endswith("/studio/")
