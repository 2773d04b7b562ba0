"""Drafts saved on the server: revisions, conflicts, refused input."""

from __future__ import annotations

from typing import Any

import pytest

from kitas.services.errors import Conflict, InvalidInput
from kitas.services.studio import drafts


def test_a_save_on_a_stale_revision_is_refused_naming_who_saved_and_nothing_is_lost(
    worker: int, users: dict[str, Any]
) -> None:
    draft = drafts.open_draft("kitas_worker", users["analyst"])
    original = draft.bpmn_xml
    edited = original.replace("Worker KITAS", "Worker KITAS (edited)", 1)
    saved = drafts.save_draft(draft.id, 1, users["analyst"], bpmn_xml=edited)
    assert saved.revision == 2
    with pytest.raises(Conflict) as refused:
        drafts.save_draft(draft.id, 1, users["admin"], bpmn_xml=original)
    assert "Alex Analyst" in str(refused.value) and "reload" in str(refused.value)
    again = drafts.get_draft(draft.id)
    assert again.bpmn_xml == edited and again.revision == 2


def test_a_file_name_with_a_path_or_a_diagram_that_is_not_bpmn_saves_nothing(
    worker: int, users: dict[str, Any]
) -> None:
    draft = drafts.open_draft("kitas_worker", users["analyst"])
    for name in ("../secret.json", "forms/x.json", "x.py", "..json"):
        with pytest.raises(InvalidInput):
            drafts.save_draft(draft.id, 1, users["analyst"], files={name: "{}"})
    with pytest.raises(InvalidInput):
        drafts.save_draft(draft.id, 1, users["analyst"], bpmn_xml="<not-closed")
    with pytest.raises(InvalidInput):
        drafts.save_draft(draft.id, 1, users["analyst"], bpmn_xml="<html/>")
    assert drafts.get_draft(draft.id).revision == 1
    saved = drafts.save_draft(draft.id, 1, users["analyst"], files={"extra.schema.json": "{}"})
    assert saved.files["extra.schema.json"] == "{}" and "worker-applicant-data.schema.json" in saved.files
