"""The studio's form editor pages: the editor, the preview partial in both languages, saving, a conflict,
refused text kept as typed, and who may enter."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from kitas.models import StudioDraft
from kitas.services.studio import drafts
from tests.conftest import deploy_worker

FORM = "worker-applicant-data.schema.json"
P = "studio:"


@pytest.fixture()
def draft(ctx: Any, users: dict[str, Any]) -> StudioDraft:
    deploy_worker()
    return drafts.open_draft("kitas_worker", users["analyst"])


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _url(draft: StudioDraft, name: str = FORM, tail: str = "") -> str:
    return f"/studio/drafts/{draft.id}/forms/{name}{tail}"


def _post(draft: StudioDraft, revision: int | None = None, **extra: str) -> dict[str, str]:
    files = draft.files
    data = {
        P + "schema": files[FORM],
        P + "ui_schema": files["worker-applicant-data.uischema.json"],
        P + "schema_texts": files["worker-applicant-data.schema.id.json"],
        P + "ui_texts": files["worker-applicant-data.uischema.id.json"],
        P + "revision": str(draft.revision if revision is None else revision),
    }
    data.update({key if key.startswith(P) or key in SAMPLE_KEYS else P + key: value for key, value in extra.items()})
    return data


SAMPLE_KEYS = {"full_name", "email"}


def test_the_files_page_links_every_form_and_table(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    page = _text(login_as(users["analyst"]).get(f"/studio/drafts/{draft.id}/files"))
    assert f'href="/studio/drafts/{draft.id}/forms/{FORM}"' in page
    assert f'href="/studio/drafts/{draft.id}/decisions/fees.dmn"' in page
    assert "uischema.json</a>" not in page and ".id.json</a>" not in page


def test_the_editor_shows_schema_ui_schema_fields_and_preview(
    draft: StudioDraft, users: dict[str, Any], login_as: Any
) -> None:
    response = login_as(users["analyst"]).get(_url(draft))
    page = _text(response)
    assert response.status_code == 200
    assert '"Full name"' in page and '"ui:order"' in page  # the two raw texts
    assert 'data-field="passport_number"' in page  # the field list
    assert 'data-testid="form-preview"' in page and 'id="f-full_name"' in page  # the applicants' macro
    assert 'data-language="en"' in page and f'name="{P}revision" value="{draft.revision}"' in page
    assert " style=" not in page


def test_the_preview_partial_speaks_both_languages(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    english = _text(client.post(_url(draft, tail="/preview"), data=_post(draft, language="en")))
    indonesian = _text(client.post(_url(draft, tail="/preview"), data=_post(draft, language="id")))
    assert english.lstrip().startswith('<div id="form-preview-body"') and "<html" not in english
    assert "Full name" in english and "Nama lengkap" not in english
    assert "Nama lengkap" in indonesian and 'lang="id"' in indonesian
    assert "Simpan dan lanjutkan" in indonesian and "Save and continue" in english
    assert "(wajib)" in indonesian or "wajib" in indonesian.lower()  # the macro's own words, in Indonesian
    # What is typed into the text area shows at once, even before it is saved.
    schema = json.loads(draft.files[FORM])
    schema["properties"]["full_name"]["title"] = "Name as in the passport"
    typed = _post(draft, language="en", schema=json.dumps(schema))
    assert "Name as in the passport" in _text(client.post(_url(draft, tail="/preview"), data=typed))


def test_checking_sample_data_puts_the_errors_beside_the_fields(
    draft: StudioDraft, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    data = _post(draft, language="en", check="1", full_name="A", email="not an address")
    page = _text(client.post(_url(draft, tail="/preview"), data=data))
    assert 'id="full_name-error"' in page and "Enter at least 2 characters." in page
    assert 'id="email-error"' in page and 'value="not an address"' in page  # typed values kept
    assert 'id="passport_number-error"' in page and "This field is required." in page
    # Without JavaScript the editor's own post does the same, on the whole page.
    page = _text(client.post(_url(draft), data={**data, P + "action": "check"}))
    assert 'id="full_name-error"' in page and 'data-testid="form-editor"' in page


def test_saving_raw_text_and_adding_a_field(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    schema = json.loads(draft.files[FORM])
    schema["title"] = "The applicant"
    response = client.post(_url(draft), data=_post(draft, action="save", schema=json.dumps(schema)))
    assert response.status_code == 302 and response.headers["Location"].endswith(_url(draft))
    assert json.loads(drafts.get_draft(draft.id).files[FORM])["title"] == "The applicant"
    fresh = drafts.get_draft(draft.id)
    response = client.post(
        _url(draft),
        data=_post(
            fresh,
            action="add",
            **{P + "new:name": "employee_id", P + "new:kind": "integer", P + "new:title": "Employee number"},
            **{P + "new:title_id": "Nomor karyawan", P + "new:required": "1"},
        ),
    )
    assert response.status_code == 302
    saved = drafts.get_draft(draft.id).files
    assert json.loads(saved[FORM])["properties"]["employee_id"] == {"type": "integer", "title": "Employee number"}
    assert (
        json.loads(saved["worker-applicant-data.schema.id.json"])["/properties/employee_id/title"] == "Nomor karyawan"
    )
    page = _text(client.get(_url(draft)))
    assert 'data-field="employee_id"' in page and "The form was saved to the draft." in page


def test_bad_json_and_bad_field_names_keep_what_was_typed(
    draft: StudioDraft, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    broken = '{\n  "title": "x",\n  oops\n}'
    response = client.post(_url(draft), data=_post(draft, action="save", schema=broken))
    page = _text(response)
    assert response.status_code == 422 and 'data-testid="error-schema"' in page
    assert "line 3, column 3" in page and broken in page
    response = client.post(
        _url(draft),
        data=_post(draft, action="add", **{P + "new:name": "Bad name!", P + "new:title": "Kept title"}),
    )
    page = _text(response)
    assert response.status_code == 422 and 'data-testid="error-new-name"' in page
    assert 'value="Bad name!"' in page and 'value="Kept title"' in page
    untitled = json.loads(draft.files[FORM])
    del untitled["properties"]["email"]["title"]
    response = client.post(_url(draft), data=_post(draft, action="save", schema=json.dumps(untitled)))
    page = _text(response)
    assert response.status_code == 422 and "email: the field has no title" in page
    assert 'data-field="full_name"' in page  # the field list stays, read from what was typed
    assert drafts.get_draft(draft.id).revision == draft.revision


def test_a_stale_revision_shows_the_conflict_and_keeps_the_text(
    draft: StudioDraft, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    old = draft.revision
    assert client.post(_url(draft), data=_post(draft, action="save")).status_code == 302
    typed = draft.files[FORM].replace("Full name", "My own change")
    response = client.post(_url(draft), data=_post(draft, revision=old, action="save", schema=typed))
    page = _text(response)
    assert response.status_code == 409 and 'data-testid="editor-conflict"' in page
    assert "after the copy you edited" in page and "My own change" in page


def test_names_with_a_path_are_not_found(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    assert client.get(_url(draft, "..%2Fsecret.schema.json")).status_code == 404
    assert client.get(_url(draft, "fees.dmn")).status_code == 404
    assert client.get(f"/studio/drafts/999/forms/{FORM}").status_code == 404


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_analysts_and_admins_enter(draft: StudioDraft, users: dict[str, Any], login_as: Any, role: str) -> None:
    assert login_as(users[role]).get(_url(draft)).status_code == 200


@pytest.mark.parametrize("role", ["applicant", "verifier", "supervisor"])
def test_others_are_refused(draft: StudioDraft, users: dict[str, Any], login_as: Any, role: str) -> None:
    client = login_as(users[role])
    assert client.get(_url(draft)).status_code == 403
    assert client.post(_url(draft, tail="/preview"), data=_post(draft)).status_code == 403


def test_signed_out_people_are_sent_to_sign_in(draft: StudioDraft, client: Any) -> None:
    assert client.get(_url(draft)).status_code == 302


def test_a_field_change_refused_stays_open_with_what_was_typed(
    draft: StudioDraft, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    data = _post(
        draft,
        action="change:phone",
        **{
            P + "field:phone:title": "",
            P + "field:phone:title_id": "Nomor HP baru",
            P + "field:phone:choices": "x =\n=",
        },
    )
    page = _text(client.post(_url(draft), data=data))
    assert '<details class="list-group-item" data-field="phone" open>' in page
    assert "Give the field a title." in page and 'value="Nomor HP baru"' in page
    assert drafts.get_draft(draft.id).revision == draft.revision
    changed = _post(
        draft,
        action="change:phone",
        **{P + "field:phone:title": "Mobile", P + "field:phone:title_id": "Nomor HP", P + "field:phone:required": "1"},
    )
    assert client.post(_url(draft), data=changed).status_code == 302
    saved = drafts.get_draft(draft.id).files
    assert json.loads(saved[FORM])["properties"]["phone"]["title"] == "Mobile"
    assert json.loads(saved["worker-applicant-data.schema.id.json"])["/properties/phone/title"] == "Nomor HP"


def test_a_shared_steps_form_says_where_to_change_it(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    page = _text(client.get(_url(draft, "shared-verify-documents.schema.json")))
    assert 'data-testid="shared-file"' in page and "shared_document_review" in page
    assert 'data-testid="shared-file"' not in _text(client.get(_url(draft)))


def test_a_new_form_is_named_on_the_files_page_and_opens_a_starter_form(
    draft: StudioDraft, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    page = _text(client.get(f"/studio/drafts/{draft.id}/files"))
    assert f'action="/studio/drafts/{draft.id}/new-form"' in page
    answer = client.get(f"/studio/drafts/{draft.id}/new-form?name=leave-approval")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/studio/drafts/{draft.id}/forms/leave-approval.schema.json")
    editor = _text(client.get(answer.headers["Location"]))
    assert "New form" in editor


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Enter a name for the form"),
        ("../secret", "without a folder"),
        ("a b", "without a folder"),
        (FORM, "already has a form"),
    ],
)
def test_a_bad_new_form_name_is_said_beside_the_field_and_kept(
    draft: StudioDraft, users: dict[str, Any], login_as: Any, typed: str, said: str
) -> None:
    answer = login_as(users["analyst"]).get(f"/studio/drafts/{draft.id}/new-form", query_string={"name": typed})
    assert answer.status_code == 422
    page = _text(answer)
    assert 'id="new-form-error"' in page and said in page
    assert f'value="{typed}"' in page
