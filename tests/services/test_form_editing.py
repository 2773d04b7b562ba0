"""The studio's form editor: fields added, changed and removed in the schema, the UI schema and the
Indonesian texts together; bad names and bad JSON refused with the text kept; the preview's sample check
says what the applicant's own page says for the same answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kitas.models import StudioDraft
from kitas.services import cases
from kitas.services.errors import Conflict, NotFound
from kitas.services.studio import drafts, form_editing
from kitas.services.studio.form_editing import FieldChange, FormRefused, FormTexts
from tests.conftest import deploy_worker
from tests.services.helpers import open_task

FORM = "worker-applicant-data.schema.json"
UI = "worker-applicant-data.uischema.json"
SCHEMA_TEXTS = "worker-applicant-data.schema.id.json"
UI_TEXTS = "worker-applicant-data.uischema.id.json"


@pytest.fixture()
def draft(ctx: Any, users: dict[str, Any]) -> StudioDraft:
    deploy_worker()
    return drafts.open_draft("kitas_worker", users["analyst"])


def _texts(draft: StudioDraft) -> FormTexts:
    return FormTexts(draft.files[FORM], draft.files[UI], draft.files[SCHEMA_TEXTS], draft.files[UI_TEXTS])


def _saved(draft_id: int) -> dict[str, Any]:
    files = drafts.get_draft(draft_id).files
    return {name: json.loads(files[name]) for name in (FORM, UI, SCHEMA_TEXTS, UI_TEXTS)}


def test_the_editor_lists_the_fields_with_both_languages(draft: StudioDraft) -> None:
    editor = form_editing.open_form(draft.id, FORM)
    assert editor.ui_name == UI and editor.revision == draft.revision and not editor.is_new
    full_name = next(row for row in editor.fields if row.name == "full_name")
    assert (full_name.title, full_name.title_id, full_name.required) == ("Full name", "Nama lengkap", True)
    nationality = next(row for row in editor.fields if row.name == "nationality")
    assert nationality.help == "The country of your passport." and nationality.help_id == "Negara penerbit paspor Anda."


def test_adding_a_choice_field_writes_schema_ui_schema_and_texts(draft: StudioDraft, users: dict[str, Any]) -> None:
    new = FieldChange(
        name="shirt_size",
        kind="choice",
        required=True,
        title="Shirt size",
        title_id="Ukuran kemeja",
        help="For the uniform.",
        help_id="Untuk seragam.",
        choices="S = Small = Kecil\nL = Large = Besar",
    )
    revision = draft.revision
    editor = form_editing.edit_form(draft.id, FORM, revision, users["analyst"], _texts(draft), add=new)
    assert editor.revision == revision + 1
    saved = _saved(draft.id)
    prop = saved[FORM]["properties"]["shirt_size"]
    assert prop == {"type": "string", "title": "Shirt size", "description": "For the uniform.", "enum": ["S", "L"]}
    assert "shirt_size" in saved[FORM]["required"] and saved[UI]["ui:order"][-1] == "shirt_size"
    assert saved[UI]["shirt_size"]["ui:enumNames"] == ["Small", "Large"]
    assert saved[SCHEMA_TEXTS]["/properties/shirt_size/title"] == "Ukuran kemeja"
    assert saved[SCHEMA_TEXTS]["/properties/shirt_size/description"] == "Untuk seragam."
    assert saved[UI_TEXTS]["/shirt_size/ui:enumNames/1"] == "Besar"
    row = next(row for row in editor.fields if row.name == "shirt_size")
    assert row.kind == "choice" and row.choices == "S = Small = Kecil\nL = Large = Besar"
    # The preview in Indonesian shows the texts file's words.
    preview = form_editing.preview_form(draft.id, FORM, editor.texts, {}, "id")
    assert preview.form is not None
    field = preview.form.field("shirt_size")
    assert (
        field is not None and field.title == "Ukuran kemeja" and [o.label for o in field.options] == ["Kecil", "Besar"]
    )


def test_changing_and_removing_a_field_round_trips(draft: StudioDraft, users: dict[str, Any]) -> None:
    change = FieldChange(name="phone", required=False, title="Mobile number", title_id="Nomor HP", help="", help_id="")
    editor = form_editing.edit_form(draft.id, FORM, draft.revision, users["analyst"], _texts(draft), change=change)
    saved = _saved(draft.id)
    assert saved[FORM]["properties"]["phone"]["title"] == "Mobile number"
    assert "description" not in saved[FORM]["properties"]["phone"] and "phone" not in saved[FORM]["required"]
    assert saved[SCHEMA_TEXTS]["/properties/phone/title"] == "Nomor HP"
    assert "/properties/phone/description" not in saved[SCHEMA_TEXTS]  # no English help, no translation of it
    editor = form_editing.edit_form(
        draft.id, FORM, editor.revision, users["analyst"], editor.texts, remove="nationality"
    )
    saved = _saved(draft.id)
    assert "nationality" not in saved[FORM]["properties"] and "nationality" not in saved[FORM]["required"]
    assert "nationality" not in saved[UI] and "nationality" not in saved[UI]["ui:order"]
    assert not [p for p in saved[SCHEMA_TEXTS] if "nationality" in p]
    assert not [p for p in saved[UI_TEXTS] if "nationality" in p]  # stale texts would refuse the deployment
    assert [row.name for row in editor.fields][:2] == ["full_name", "date_of_birth"]


def test_bad_names_and_bad_json_are_refused_and_nothing_is_saved(draft: StudioDraft, users: dict[str, Any]) -> None:
    analyst, before, revision = users["analyst"], dict(draft.files), draft.revision
    for name in ("Bad Name", "full_name"):
        with pytest.raises(FormRefused) as refused:
            form_editing.edit_form(
                draft.id, FORM, draft.revision, analyst, _texts(draft), add=FieldChange(name=name, title="X")
            )
        assert refused.value.editor.errors["name"]
    broken = FormTexts('{"title": "x",\n  "type": "object" "properties": {}}', "{}")
    with pytest.raises(FormRefused) as refused:
        form_editing.edit_form(draft.id, FORM, draft.revision, analyst, broken)
    assert "line 2, column 20" in refused.value.editor.errors["schema"][0]
    assert refused.value.editor.texts.schema == broken.schema  # the text is kept
    refusable = FormTexts(json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}), "{}")
    with pytest.raises(FormRefused) as refused:
        form_editing.edit_form(draft.id, FORM, draft.revision, analyst, refusable)
    assert "the form has no title" in refused.value.editor.errors["schema"]
    assert "a: the field has no title" in refused.value.editor.errors["schema"]
    unknown_rule = json.loads(draft.files[FORM])
    unknown_rule["properties"]["full_name"]["x-kitas-rules"] = [{"rule": "shouting"}]
    with pytest.raises(FormRefused) as refused:
        form_editing.edit_form(draft.id, FORM, draft.revision, analyst, FormTexts(json.dumps(unknown_rule), "{}"))
    assert "unknown rule" in refused.value.editor.errors["schema"][0]
    assert drafts.get_draft(draft.id).files == before and drafts.get_draft(draft.id).revision == revision
    with pytest.raises(NotFound):
        form_editing.open_form(draft.id, "../forms/schemas/x.schema.json")
    with pytest.raises(NotFound):
        form_editing.open_form(draft.id, "fees.dmn")


def test_a_stale_revision_is_a_conflict(draft: StudioDraft, users: dict[str, Any]) -> None:
    texts, revision = _texts(draft), draft.revision
    form_editing.edit_form(draft.id, FORM, revision, users["analyst"], texts)
    with pytest.raises(Conflict):
        form_editing.edit_form(draft.id, FORM, revision, users["admin"], texts)


def test_a_new_form_name_opens_a_form_to_create(draft: StudioDraft, users: dict[str, Any]) -> None:
    editor = form_editing.open_form(draft.id, "worker-extra.schema.json")
    assert editor.is_new and editor.ui_name == "worker-extra.uischema.json"
    new = FieldChange(name="note", title="Note", title_id="Catatan")
    form_editing.edit_form(draft.id, editor.name, editor.revision, users["analyst"], editor.texts, add=new)
    files = drafts.get_draft(draft.id).files
    assert "note" in json.loads(files["worker-extra.schema.json"])["properties"]
    assert json.loads(files["worker-extra.schema.id.json"]) == {"/properties/note/title": "Catatan"}
    assert json.loads(files["worker-extra.uischema.json"]) == {}


def test_the_sample_check_says_what_the_applicant_page_says(draft: StudioDraft, users: dict[str, Any]) -> None:
    sample = {
        "full_name": ["A"],
        "nationality": ["gb"],
        "date_of_birth": ["2030-01-01"],
        "passport_number": ["ab 12"],
        "passport_expiry": ["2001-01-01"],
        "email": ["nobody@localhost"],
    }
    preview = form_editing.preview_form(draft.id, FORM, _texts(draft), sample, "en", check=True)
    assert preview.checked and preview.errors
    application = cases.start_case("worker", users["applicant"])
    task = open_task(application.id, "applicant_data")
    with pytest.raises(cases.taskforms.TaskFormRejected) as rejected:
        cases.taskforms.submit(application.reference, task.task_id, users["applicant"], sample, {}, language="en")
    assert preview.errors == rejected.value.errors
    # In Indonesian too: the format hints are the field's Indonesian help, as on her page in Indonesian.
    indonesian = form_editing.preview_form(draft.id, FORM, _texts(draft), sample, "id", check=True)
    with pytest.raises(cases.taskforms.TaskFormRejected) as rejected:
        cases.taskforms.submit(application.reference, task.task_id, users["applicant"], sample, {}, language="id")
    assert indonesian.errors == rejected.value.errors
    assert any("6 sampai 12 huruf" in m for m in indonesian.errors["passport_number"])
    assert preview.values["full_name"] == "A"  # what was typed is shown again
    valid = form_editing.preview_form(
        draft.id,
        FORM,
        _texts(draft),
        {
            "full_name": "Ana Example",
            "nationality": "GB",
            "date_of_birth": "1990-01-01",
            "passport_number": "AB123456",
            "passport_expiry": "2035-01-01",
            "email": "ana@example.org",
            "phone": "+62 812 3456 7890",
        },
        "en",
        check=True,
    )
    assert valid.checked and valid.errors == {}
