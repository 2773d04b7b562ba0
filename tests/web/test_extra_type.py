"""A fifth KITAS type added as data only: the remote worker (E33G) under tests/data/remote_worker/ (its
catalog entry with its Indonesian, its diagram on the shared steps, its forms), named by the setting
KITAS_EXTRA_TYPES. No Python of the project knows it: `kitas init` deploys it, the types list shows it,
and an applicant takes a case to its first officer step through the pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from kitas.config import load_config
from kitas.extensions import db
from kitas.models import Application, HumanTask, ProcessDefinition
from kitas.services import cases
from kitas.web.access import SECOND_FACTOR_KEY
from tests.uploads import jpeg_bytes, pdf_bytes
from tests.web.pages import case_of, confirm_answers, form_errors, post_form, task_url
from workflows import catalog, use_extra_catalogs

FOLDER = Path(__file__).resolve().parents[1] / "data" / "remote_worker"
APPLICANT = {
    "full_name": "Lena Fischer",
    "nationality": "DE",
    "date_of_birth": "1988-09-30",
    "passport_number": "C01X00T47",
    "passport_expiry": "2032-05-31",
}
WORK = {
    "employer_name": "Nordlicht Software GmbH",
    "employer_country": "DE",
    "annual_income_usd": 85000,
    "duration_months": 12,
}


@pytest.fixture()
def extra_app(app: Flask, ctx: Flask, clock: Any) -> Iterator[Flask]:
    """The application as configured with KITAS_EXTRA_TYPES naming the folder (on the test database)."""
    from app import create_app

    settings = {key: app.config[key] for key in load_config(Path(app.instance_path)) if key in app.config}
    settings.update({"TESTING": True, "WTF_CSRF_ENABLED": False, "KITAS_EXTRA_TYPES": [str(FOLDER)]})
    extra = create_app(settings, clock=clock)
    extra.test_client_class = app.test_client_class
    with extra.app_context():
        yield extra
        db.session.remove()
    use_extra_catalogs(())  # the rest of the session's processes know the shipped types only


def _sign_in(client: FlaskClient, user: Any) -> None:
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session[SECOND_FACTOR_KEY] = user.get_id()
    g.pop("_login_user", None)


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KITAS_EXTRA_TYPES", f"{FOLDER}:{tmp_path}")
    assert load_config(tmp_path)["KITAS_EXTRA_TYPES"] == [str(FOLDER), str(tmp_path)]
    monkeypatch.delenv("KITAS_EXTRA_TYPES")
    assert load_config(tmp_path)["KITAS_EXTRA_TYPES"] == []


def test_an_extra_catalog_cannot_replace_a_shipped_type(tmp_path: Path) -> None:
    clash = tmp_path / "kitas_types.json"
    clash.write_text(
        '{"types": [{"code": "worker", "index_code": "E23", "name_en": "x", "name_id": "x",'
        ' "process_id": null, "diagram": null, "sponsor": ""}]}'
    )
    use_extra_catalogs([clash])
    try:
        with pytest.raises(ValueError, match="already has a type 'worker'"):
            catalog()
    finally:
        use_extra_catalogs(())
    assert [t.code for t in catalog().types] == ["worker", "investor", "family", "student"]


def test_a_fifth_type_from_data_is_deployed_listed_and_applied_for(extra_app: Flask, users: dict[str, Any]) -> None:
    result = extra_app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "kitas_remote_worker: deployed as version 1" in result.output
    definition = db.session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.process_id == "kitas_remote_worker")
    ).one()
    assert "remote-work-data.schema.json" in definition.files and "kitas_remote_worker.id.json" in definition.files

    client = extra_app.test_client()
    listed = client.get("/types").get_data(as_text=True)
    assert "Remote worker KITAS" in listed and "E33G" in listed
    page = client.get("/types/remote_worker")
    assert page.status_code == 200 and "Proof of employment outside Indonesia" in page.get_data(as_text=True)
    indonesian = client.get("/types", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "ITAS Pekerja Jarak Jauh" in indonesian

    applicant = users["applicant"]
    _sign_in(client, applicant)
    assert "E33G" in client.get("/applications/").get_data(as_text=True)  # the dashboard's start buttons
    response = client.post("/applications/new/remote_worker")
    assert response.status_code == 302, response.get_data(as_text=True)
    application = case_of(applicant)
    assert application.kitas_type == "remote_worker" and application.reference.startswith("E33G-")
    response = post_form(client, task_url(application, "remote_applicant_data"), APPLICANT)
    assert response.status_code == 302, form_errors(response)
    too_little = post_form(client, task_url(application, "remote_work_data"), {**WORK, "annual_income_usd": 20000})
    assert too_little.status_code == 422 and form_errors(too_little) == ["Enter a value at least 60000."]
    response = post_form(client, task_url(application, "remote_work_data"), WORK)
    assert response.status_code == 302, form_errors(response)
    confirm_answers(client, application, "remote_work_data")
    documents = {
        "passport_scan": ("passport.pdf", pdf_bytes()),
        "photo": ("photo.jpg", jpeg_bytes()),
        "employment_proof": ("contract.pdf", pdf_bytes()),
        "income_proof": ("bank.pdf", pdf_bytes(2)),
        "health_insurance": ("insurance.pdf", pdf_bytes()),
    }
    response = post_form(client, task_url(application, "remote_document_checklist"), documents)
    assert response.status_code == 302, form_errors(response)
    confirm_answers(client, application, "remote_document_checklist")
    db.session.refresh(application)
    assert application.status == "awaiting_payment"
    pay_page = client.get(f"/payments/{application.reference}")  # its own rows of kitas_fee, beside it
    assert pay_page.status_code == 200 and "Rp 12.000.000" in pay_page.get_data(as_text=True)

    paid = {"billing_code": "820260105000009", "amount": 0, "paid_at": "2026-01-06T10:00:00+07:00"}
    cases.deliver_message(application.id, "payment_received", paid, actor="sandbox-bank")  # the provider's notice
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application is not None and application.status == "in_verification"
    task = db.session.scalars(select(HumanTask).where(HumanTask.application_id == application.id)).one()
    assert (task.element_id, task.role) == ("verify_documents", "verifier")
    _sign_in(client, users["verifier"])
    inbox = client.get("/officer/").get_data(as_text=True)
    assert application.reference in inbox and "Verify documents" in inbox
    page = client.get(task_url(application, "verify_documents", "/officer"))
    assert page.status_code == 200 and WORK["employer_name"] in page.get_data(as_text=True)


def test_every_text_of_the_folder_is_in_indonesian() -> None:
    """The folder is held to the rule of every shipped file: each text a person reads has its Indonesian."""
    import json
    import xml.etree.ElementTree as ET

    from forms.texts import missing_texts, parse_texts

    sources = [FOLDER / "kitas_types.json", *sorted((FOLDER / "forms").glob("*.json"))]
    sources = [path for path in sources if not path.name.endswith(".id.json")]
    assert len(sources) == 7  # the catalog file and three forms, each a schema and a UI schema
    for source in sources:
        texts_path = source.with_name(source.name.removesuffix(".json") + ".id.json")
        texts = parse_texts(texts_path.read_text(encoding="utf-8"), texts_path.name)
        assert missing_texts(json.loads(source.read_text(encoding="utf-8")), texts) == ([], []), source.name
    diagram = FOLDER / "kitas_remote_worker.bpmn"
    named = {f"/{e.get('id')}" for e in ET.parse(diagram).getroot().iter() if e.get("name") and e.get("id")}
    named -= {
        f"/{e.get('id')}"
        for e in ET.parse(diagram).getroot().iter()
        if e.tag.endswith(("sequenceFlow", "participant", "lane", "process"))
    }
    assert set(json.loads(diagram.with_name("kitas_remote_worker.id.json").read_text(encoding="utf-8"))) == named
