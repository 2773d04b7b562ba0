"""Offices on the pages: the province asked at the start (required, kept), the case's office on the
officers' pages, another office's case refused as unknown (404, audited), and the admin's officers page."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_babel import refresh
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, Office
from kitas.services.offices.scope import visible_office_ids
from tests.factories import make_user
from tests.permit_cases import issued_case
from tests.web.pages import case_of, task_url
from tests.web.test_pages_in_indonesian import INDONESIAN, read

pytestmark = pytest.mark.usefixtures("worker")


def _text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def _office(code: str) -> Office:
    return db.session.scalars(select(Office).where(Office.code == code)).one()


def _refusals(user: Any) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == "access_refused", AuditEvent.actor_id == user.id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


# -- the start page ---------------------------------------------------------------------------


def test_the_start_page_asks_the_province_in_both_languages(users: dict[str, Any], login_as: Any) -> None:
    users["applicant"].language = None  # the browser's language decides
    db.session.commit()
    client = login_as(users["applicant"])
    page = unescape(read(client, "/applications/new/worker"))
    assert "Province where you will live in Indonesia" in page
    assert '<select class="form-select" id="f-domicile_province" name="domicile_province" required' in page
    assert '<option value="Bali">Bali</option>' in page and '<option value="">Choose…</option>' in page
    indonesian = unescape(read(client, "/applications/new/worker", INDONESIAN))
    assert "Provinsi tempat Anda akan tinggal di Indonesia" in indonesian
    assert "Province where you will live" not in indonesian
    refresh()
    refused = client.post("/applications/new/worker", data={"domicile_province": ""}, headers=INDONESIAN)
    assert "Pilih provinsi tempat Anda akan tinggal di Indonesia." in _text(refused)


def test_the_province_is_required_and_what_was_chosen_is_kept(
    users: dict[str, Any], login_as: Any, family: int
) -> None:
    client = login_as(users["applicant"])
    response = client.post("/applications/new/family", data={"index_code": ["", "E31B"], "domicile_province": ""})
    page = _text(response)
    assert response.status_code == 422
    assert "Choose the province where you will live in Indonesia." in page
    assert 'value="E31B" required checked' in page  # the index chosen is kept
    assert db.session.scalar(select(db.func.count()).select_from(Application)) == 0
    # The other way round: the province is kept while the index is asked for.
    again = _text(client.post("/applications/new/family", data={"index_code": "", "domicile_province": "Bali"}))
    assert '<option value="Bali" selected>Bali</option>' in again and "Choose the index code" in again
    unknown = client.post("/applications/new/worker", data={"domicile_province": "Atlantis"})
    assert unknown.status_code == 422 and "Atlantis is not a province of Indonesia" in _text(unknown)


def test_a_case_started_on_the_page_lands_in_its_provinces_office(users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["applicant"])
    response = client.post("/applications/new/worker", data={"domicile_province": "Nusa Tenggara Barat"})
    assert response.status_code == 302
    application = case_of(users["applicant"])
    assert application.domicile_province == "Nusa Tenggara Barat" and application.office_id == _office("DPS").id


# -- the officers' pages ----------------------------------------------------------------------


def test_an_officer_of_another_office_gets_404_on_every_page_of_the_case_and_each_is_audited(
    users: dict[str, Any], login_as: Any
) -> None:
    application = issued_case(users)  # no province: the default office, Jakarta, where the factory's officers work
    bali = make_user("verifier", "supervisor", email="dewi@imigrasi.example", name="Dewi Denpasar", offices=("DPS",))
    own = login_as(users["supervisor"])
    case_page = _text(own.get(f"/officer/cases/{application.reference}"))
    assert "Office: Kantor Imigrasi Kelas I Khusus TPI Jakarta Selatan, Jakarta Selatan (WIB)" in case_page
    assert own.get(f"/officer/cases/{application.reference}/permit.pdf").status_code == 200
    client = login_as(bali)
    for url in (f"/officer/cases/{application.reference}", f"/officer/cases/{application.reference}/permit.pdf"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert application.reference not in _text(response) and b"%PDF" not in response.data
    unknown = client.get("/officer/cases/E23-2026-NOSUCHXX")
    assert unknown.status_code == 404 and unknown.data.count(b"<h1") == response.data.count(b"<h1")
    refused = _refusals(bali)
    assert [row.detail["object"] for row in refused] == ["application", "permit", "application"]
    assert all("belongs to another office" in row.detail["reason"] for row in refused[:2])
    assert refused[2].detail["reason"] == "case E23-2026-NOSUCHXX"


def test_the_task_page_and_its_documents_are_refused_to_another_office_and_name_the_office(
    users: dict[str, Any], login_as: Any
) -> None:
    from tests.web.test_officer_pages import _paid_case_with_uploaded_documents

    application = _paid_case_with_uploaded_documents(users, login_as)
    url = task_url(application, "verify_documents", "/officer")
    own = _text(login_as(users["verifier"]).get(url))
    assert 'data-testid="case-office"' in own and "Jakarta Selatan (WIB)" in own
    documents = re.findall(r'<img class="d-block w-100[^"]*" src="([^"]+)"', own)  # the workspace's previews
    assert documents
    bali = make_user("verifier", email="dewi@imigrasi.example", offices=("DPS",))
    client = login_as(bali)
    assert client.get(url).status_code == 404
    assert client.get(documents[0]).status_code == 404
    assert client.post(url + "/claim").status_code == 404
    reasons = [row.detail["reason"] for row in _refusals(bali)]
    assert len(reasons) == 3 and all("belongs to another office" in reason for reason in reasons)


def test_an_admin_sees_every_offices_case(users: dict[str, Any], login_as: Any) -> None:
    application = issued_case(users)
    db.session.execute(
        Application.__table__.update().where(Application.id == application.id).values(office_id=_office("DJJ").id)
    )
    db.session.commit()
    assert login_as(users["verifier"]).get(f"/officer/cases/{application.reference}").status_code == 404
    admin_page = login_as(users["admin"]).get(f"/admin/cases/{application.reference}")
    assert admin_page.status_code == 200 and application.reference in _text(admin_page)
    chief = make_user("admin", "supervisor", email="chief@imigrasi.example", offices=())
    page = _text(login_as(chief).get(f"/officer/cases/{application.reference}"))
    assert "Kantor Imigrasi Kelas I TPI Jayapura, Jayapura (WIT)" in page


# -- the admin's page of officers' offices ----------------------------------------------------


def test_an_admin_sets_an_officers_offices_on_the_page(users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["admin"])
    page = _text(client.get("/admin/officers"))
    assert "Vera Verifier" in page and "Sam Supervisor" in page and "Ana Applicant" not in page
    dps, mks = _office("DPS").id, _office("MKS").id
    response = client.post(f"/admin/officers/{users['verifier'].id}/offices", data={"office": [str(dps), str(mks)]})
    assert response.status_code == 302
    assert "Saved: the officer works in DPS, MKS." in _text(client.get("/admin/officers"))
    assert visible_office_ids(users["verifier"]) == {dps, mks}
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "officer_offices_set")).one()
    assert row.actor_id == users["admin"].id and row.detail["after"] == ["DPS", "MKS"]
    wrong = client.post(f"/admin/officers/{users['verifier'].id}/offices", data={"office": "999"})
    assert wrong.status_code == 422 and "choose only offices from the list" in _text(wrong)
    assert client.post(f"/admin/officers/{users['applicant'].id}/offices", data={}).status_code == 404
    assert visible_office_ids(users["verifier"]) == {dps, mks}


def test_only_admins_reach_the_officers_page(users: dict[str, Any], login_as: Any, client: FlaskClient) -> None:
    assert login_as(users["supervisor"]).get("/admin/officers").status_code == 403
    users["admin"].language = "id"  # officers and administrators read Indonesian
    db.session.commit()
    page = unescape(read(login_as(users["admin"]), "/admin/officers"))
    assert "Kantor para petugas" in page and "Simpan kantor" in page


# -- the group form ---------------------------------------------------------------------------


def test_the_group_form_asks_the_sponsors_province_once_and_every_case_goes_to_its_office(
    users: dict[str, Any], login_as: Any
) -> None:
    from tests.services.group_helpers import group_post, people

    client = login_as(users["sponsor"])
    assert "Province where the sponsor is based" in _text(client.get("/sponsor/groups/new/worker"))
    posted = {key: value[0] for key, value in group_post(people(2)).items()}
    refused = client.post("/sponsor/groups/new/worker", data={**posted, "domicile_province": ""})
    page = _text(refused)
    assert refused.status_code == 422 and "Choose the province where the sponsor is based." in page
    assert 'value="Person Number 2"' in page  # everything typed is kept
    assert db.session.scalar(select(db.func.count()).select_from(Application)) == 0
    response = client.post("/sponsor/groups/new/worker", data={**posted, "domicile_province": "Jawa Timur"})
    assert response.status_code == 303
    db.session.expire_all()
    members = db.session.scalars(select(Application)).all()
    assert len(members) == 2
    assert {(m.domicile_province, m.office_id) for m in members} == {("Jawa Timur", _office("SBY").id)}
