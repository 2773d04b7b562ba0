"""The properties panel's endpoints: code and timer checks as the analyst types, and a draft's context."""

from __future__ import annotations

from typing import Any

from flask import Flask

from kitas.extensions import db
from kitas.services.studio import drafts


def _reads_indonesian(user: Any) -> None:
    user.language = "id"  # the analyst's own setting
    db.session.commit()


def test_a_script_is_checked_with_its_problems_by_line(ctx: Flask, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["analyst"])
    good = client.post("/studio/check/script", json={"code": "fee = 1\nnotes = [fee]", "kind": "script"})
    assert good.status_code == 200 and good.get_json() == {"ok": True, "problems": []}
    bad = client.post("/studio/check/script", json={"code": "x = 1\nimport os\ny = (", "kind": "script"}).get_json()
    assert bad["ok"] is False
    assert [p["line"] for p in bad["problems"]] and all(isinstance(p["message"], str) for p in bad["problems"])
    condition = client.post("/studio/check/script", json={"code": "x.__class__", "kind": "condition"}).get_json()
    assert condition["ok"] is False and condition["problems"][0]["line"] == 1


def test_a_bad_request_is_refused_and_the_empty_condition_is_told_in_the_readers_language(
    ctx: Flask, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    assert client.post("/studio/check/script", json={"kind": "script"}).status_code == 400
    assert client.post("/studio/check/script", data="not json").status_code == 400
    assert client.post("/studio/check/script", json={"code": "x", "kind": "macro"}).status_code == 400
    _reads_indonesian(users["analyst"])
    body = client.post("/studio/check/script", json={"code": "", "kind": "condition"}).get_json()
    assert body["problems"] == [{"line": None, "message": 'Tulis kondisinya, misalnya decision == "approve".'}]


def test_timers_are_told_in_plain_words_in_the_readers_language(
    ctx: Flask, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["analyst"])
    body = client.post("/studio/check/timer", json={"kind": "duration", "text": "P5D"}).get_json()
    assert body == {"ok": True, "words": "5 days after the task starts", "problem": None}
    body = client.post("/studio/check/timer", json={"kind": "date", "text": "2027-03-01T09:00:00+07:00"}).get_json()
    assert body["words"] == "on 1 March 2027 at 09:00 WIB"
    body = client.post("/studio/check/timer", json={"kind": "duration", "text": "P5X"}).get_json()
    assert body["ok"] is False and body["words"] is None and "“P5X” is not an ISO 8601 duration" in body["problem"]
    _reads_indonesian(users["analyst"])
    body = client.post("/studio/check/timer", json={"kind": "cycle", "text": "R3/PT1H"}).get_json()
    assert body["words"] == "3 kali, setiap jam"
    body = client.post("/studio/check/timer", json={"kind": "duration", "text": "P2D", "attached": False}).get_json()
    assert body["words"] == "2 hari setelah kasus mencapai peristiwa ini"
    assert client.post("/studio/check/timer", json={"kind": "duration"}).status_code == 400


def test_the_context_of_a_draft(worker: int, users: dict[str, Any], login_as: Any) -> None:
    draft = drafts.open_draft("kitas_worker", users["analyst"])
    client = login_as(users["analyst"])
    response = client.get(f"/studio/drafts/{draft.id}/context.json")
    assert response.status_code == 200 and response.is_json
    context = response.get_json()
    assert context["lanes"]["Verifier"] == "verifier" and "supervisor" in context["roles"]
    assert "shared_payment" in context["shared_steps"]
    assert "worker-applicant-data.schema.json" in context["forms"]["schemas"]
    assert "worker-applicant-data.uischema.json" in context["forms"]["ui_schemas"]
    assert context["decisions"] == ["kitas_fee"]
    assert context["form_editor_url"] == f"/studio/drafts/{draft.id}/forms/"
    assert context["labels"]["open_form_editor"] == "Open in the form editor"
    _reads_indonesian(users["analyst"])
    labels = client.get(f"/studio/drafts/{draft.id}/context.json").get_json()["labels"]
    assert labels["open_form_editor"] == "Buka di penyunting formulir" and labels["lane_role"] == "Peran"


def test_the_context_is_for_analysts_and_admins_and_only_of_a_draft_that_exists(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    draft = drafts.open_draft("kitas_worker", users["analyst"])
    url = f"/studio/drafts/{draft.id}/context.json"
    assert login_as(users["admin"]).get(url).status_code == 200
    for role in ("verifier", "supervisor", "applicant", "sponsor"):
        assert login_as(users[role]).get(url).status_code == 403
        assert login_as(users[role]).post("/studio/check/timer", json={"kind": "date", "text": ""}).status_code == 403
    analyst = login_as(users["analyst"])
    assert analyst.get(f"/studio/drafts/{draft.id + 1}/context.json").status_code == 404
    drafts.discard_draft(draft.id, users["analyst"])
    assert analyst.get(url).status_code == 404


def test_the_checks_need_the_csrf_token(ctx: Flask, users: dict[str, Any], login_as: Any, csrf_on: None) -> None:
    client = login_as(users["analyst"])
    assert client.post("/studio/check/script", json={"code": "x = 1", "kind": "script"}).status_code == 400


def test_the_panels_english_fallback_is_the_catalogs_english(ctx: Flask) -> None:
    """The panel shows its own English until context.json brings the reader's labels: the same keys, the same
    English, so no label is missing in either language."""
    import re
    from pathlib import Path

    from flask_babel import force_locale

    from kitas.web.studio.checks import panel_labels

    source = (Path(__file__).resolve().parents[2] / "frontend/studio/properties/context.js").read_text("utf-8")
    block = source.split("const ENGLISH = {", 1)[1].split("};", 1)[0]
    fallback = {
        key: single or double
        for key, single, double in re.findall(r"^\s*(\w+): (?:'((?:[^'\\]|\\.)*)'|\"([^\"]*)\")", block, re.M)
    }
    with ctx.test_request_context(), force_locale("en"):
        english = panel_labels()
    assert fallback == english
    with ctx.test_request_context(), force_locale("id"):
        indonesian = panel_labels()
    assert all(indonesian[key] != english[key] for key in english if key not in ("kitas", "status"))
