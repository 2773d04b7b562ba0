"""The studio's decision table pages: the editor with its read-only table, saving, a conflict, refused XML
kept, the test panel (partial and whole page), and who may enter."""

from __future__ import annotations

import html
from typing import Any

import pytest

from kitas.models import StudioDraft
from kitas.services.studio import drafts
from tests.conftest import deploy_worker


@pytest.fixture()
def draft(ctx: Any, users: dict[str, Any]) -> StudioDraft:
    deploy_worker()
    return drafts.open_draft("kitas_worker", users["analyst"])


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _url(draft: StudioDraft, tail: str = "", name: str = "fees.dmn") -> str:
    return f"/studio/drafts/{draft.id}/decisions/{name}{tail}"


WORKER_12 = {"kitas_type": "worker", "index_code": "E23", "duration_months": "12"}


def test_the_editor_page_has_the_modeler_the_test_panel_and_the_table(
    draft: StudioDraft, users: dict[str, Any], login_as: Any
) -> None:
    response = login_as(users["analyst"]).get(_url(draft))
    page = _text(response)
    assert response.status_code == 200
    assert "data-dmn-editor" in page and "vendor/dmn-js/dmn-modeler.production.min.js" in page
    assert "js/studio-dmn.js" in page and "<script>" not in page and " style=" not in page
    assert f'name="revision" value="{draft.revision}"' in page and 'id="dmn-xml"' in page
    for name in ("kitas_type", "index_code", "duration_months"):
        assert f'data-testid="dmn-input-{name}"' in page
    assert 'data-testid="dmn-readonly"' in page and "1700000" in page and "Length of stay (months)" in page


def test_the_test_panel_gives_the_amount_in_rupiah(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    partial = _text(client.post(_url(draft, "/test"), data=WORKER_12, headers={"HX-Request": "true"}))
    assert "<html" not in partial and 'data-testid="dmn-output-fee_amount"' in partial
    assert "Rp" in partial and "1.700.000" in partial
    whole = _text(client.post(_url(draft, "/test"), data={**WORKER_12, "duration_months": "9"}))
    assert "<html" in whole and "No row of the table matches these inputs." in whole
    assert 'value="9"' in whole  # the typed input stays
    changed = draft.files["fees.dmn"].replace("<text>1700000</text>", "<text>1800000</text>")
    partial = _text(client.post(_url(draft, "/test"), data={**WORKER_12, "xml": changed}, headers={"HX-Request": "1"}))
    assert "1.800.000" in partial and "changes not saved yet" in partial


def test_saving_and_a_conflict(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    old = draft.revision
    changed = draft.files["fees.dmn"].replace("<text>1700000</text>", "<text>1750000</text>")
    response = client.post(_url(draft), data={"xml": changed, "revision": str(old)})
    assert response.status_code == 302
    assert "1750000" in drafts.get_draft(draft.id).files["fees.dmn"]
    assert "saved to the draft" in _text(client.get(_url(draft)))
    mine = changed.replace("<text>1750000</text>", "<text>1999000</text>")
    response = client.post(_url(draft), data={"xml": mine, "revision": str(old)})
    page = _text(response)
    assert response.status_code == 409 and 'data-testid="editor-conflict"' in page and "1999000" in page
    assert "1999000" not in drafts.get_draft(draft.id).files["fees.dmn"]


def test_xml_that_is_no_table_is_refused_and_kept(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    response = client.post(_url(draft), data={"xml": "<definitions><decision", "revision": str(draft.revision)})
    page = _text(response)
    assert response.status_code == 422 and 'data-testid="error-xml"' in page and "<definitions><decision" in page
    assert 'data-testid="table-problem"' in page


def test_names_with_a_path_are_not_found(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    for name in ("..%2Ffees.dmn", "other.dmn", "worker-applicant-data.schema.json"):
        assert client.get(_url(draft, name=name)).status_code == 404


@pytest.mark.parametrize("role", ["applicant", "sponsor", "verifier"])
def test_only_analysts_and_admins_enter(draft: StudioDraft, users: dict[str, Any], login_as: Any, role: str) -> None:
    assert login_as(users[role]).get(_url(draft)).status_code == 403
    assert login_as(users[role]).post(_url(draft, "/test"), data=WORKER_12).status_code == 403
    assert login_as(users["admin"]).get(_url(draft)).status_code == 200


def test_a_shared_steps_table_says_where_to_change_it(draft: StudioDraft, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    page = _text(client.get(_url(draft)))
    assert 'data-testid="shared-file"' in page and "shared step shared_payment" in page
    assert 'action="/studio/processes/shared_payment/draft"' in page
    payment = drafts.open_draft("shared_payment", users["analyst"])
    assert 'data-testid="shared-file"' not in _text(client.get(_url(payment)))
