"""The group pages for the family and the student types with the test client: the family's sponsor data once
(a citizen's NIK, a permit holder's number as the form asks), each person's relation; a school's students;
a bad list back with every error by field and everything typed."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, ApplicationGroup
from kitas.services.deployments import deploy_path
from tests.conftest import ROOT, deploy_shared_steps
from tests.factories import make_user
from tests.services.test_family_student_groups import CITIZEN, FAMILY, SCHOOL, STUDENTS, posted

pytestmark = pytest.mark.usefixtures("family_and_student")


@pytest.fixture()
def family_and_student(ctx: Any) -> None:
    deploy_shared_steps()
    for name in ("kitas_family.bpmn", "kitas_student.bpmn"):
        deploy_path(ROOT / "bpmn" / name, ROOT / "forms" / "schemas")


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _flat(data: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in data.items()}


def test_a_citizen_starts_the_family_of_three_and_follows_it(login_as: Any) -> None:
    citizen = make_user("sponsor", email="budi@example.id", name="Budi Santoso", confirmed=True)
    client = login_as(citizen)
    assert "/sponsor/groups/new/family" in _text(client.get("/sponsor/groups/"))
    form = _text(client.get("/sponsor/groups/new/family"))
    # The family member step's words, said to the sponsor (the catalog's group texts).
    for label in ("Your full name", "Your ID number (NIK)", "Your KITAS or KITAP number", "Relation to you"):
        assert label in form
    assert "Family member's full name" not in form
    assert "Child of an Indonesian citizen or of a permit holder (E31C)" in form
    response = client.post("/sponsor/groups/new/family", data=_flat(posted(CITIZEN, FAMILY)))
    assert response.status_code == 303
    group = db.session.scalars(select(ApplicationGroup)).one()
    page = _text(client.get(f"/sponsor/groups/{group.reference}"))
    members = db.session.scalars(select(Application).where(Application.group_id == group.id)).all()
    assert sorted(a.reference[:4] for a in members) == ["E31A", "E31C", "E31C"]
    for member in members:
        assert member.reference in page
    assert page.count("Maria Santos") == 1 and "Luis Santos" in page and "Ana Santos" in page


def test_a_bad_family_list_comes_back_by_field_with_everything_typed(login_as: Any) -> None:
    citizen = make_user("sponsor", email="budi@example.id", confirmed=True)
    rows = [{**FAMILY[0], "index_code": "E31B"}, FAMILY[1]]
    response = login_as(citizen).post(
        "/sponsor/groups/new/family", data=_flat(posted({**CITIZEN, "sponsor_nik": "123"}, rows))
    )
    assert response.status_code == 422
    text = _text(response)
    assert "Use the format: The 16 digits on your ID card (KTP). Asked when you are an Indonesian citizen." in text
    assert "This does not fit the sponsor's answer to “You are” above" in text
    assert 'value="Budi Santoso"' in text and 'value="Maria Santos"' in text and 'value="Luis Santos"' in text
    assert db.session.scalars(select(Application)).first() is None


def test_a_school_starts_its_students_in_indonesian_and_english(login_as: Any) -> None:
    school = make_user("sponsor", email="admissions@sma-contoh.sch.id", confirmed=True)
    client = login_as(school)
    form = _text(client.get("/sponsor/groups/new/student"))
    assert "School, university or course provider" in form and "Who sponsors" in form
    shared = {**SCHOOL, "institution_name": "SMA Contoh Bandung"}
    assert client.post("/sponsor/groups/new/student", data=_flat(posted(shared, STUDENTS))).status_code == 303
    assert {a.reference[:5] for a in db.session.scalars(select(Application))} == {"E30A-"}
    guru = make_user("sponsor", email="guru@example.id", confirmed=True, language="id")
    refused = login_as(guru).post(
        "/sponsor/groups/new/student", data=_flat(posted({**shared, "institution_name": ""}, STUDENTS[:1]))
    )
    assert refused.status_code == 422 and "Sekolah, perguruan tinggi, atau lembaga kursus" in _text(refused)
