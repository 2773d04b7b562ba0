"""The index code an application is for, chosen at its start: a choice page for a type of several codes
(the guide's and the type page's ``?index=`` choosing it already), the register number starting with it,
the relation or study step showing it read-only, a code the type does not have refused in plain words."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import Application
from kitas.services import cases
from kitas.services.deployments import deploy_path
from kitas.services.errors import InvalidInput
from tests.conftest import ROOT, deploy_shared_steps
from tests.family_data import APPLICANT_DATA, MEMBER_DATA
from tests.web.pages import case_of, form_errors, post_form, task_url


@pytest.fixture()
def types(ctx: Any) -> None:
    deploy_shared_steps()
    for name in ("kitas_worker.bpmn", "kitas_family.bpmn", "kitas_student.bpmn"):
        deploy_path(ROOT / "bpmn" / name, ROOT / "forms" / "schemas")


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Application)) or 0


@pytest.mark.usefixtures("types")
def test_the_family_start_asks_the_relation_and_the_register_number_carries_it(
    users: dict[str, Any], login_as: Any
) -> None:
    applicant = users["applicant"]
    client = login_as(applicant)
    dashboard = _text(client.get("/applications/"))
    assert 'href="/applications/new/family"' in dashboard and "(E31A, E31B, E31C)" in dashboard
    choice = _text(client.get("/applications/new/family"))
    assert "Which permit do you apply for?" in choice
    for code in ("E31A", "E31B", "E31C"):
        assert f'value="{code}"' in choice
    assert "checked" not in choice  # nothing chosen for her
    assert 'value="E31B" required checked' in _text(client.get("/applications/new/family?index=E31B"))
    response = client.post("/applications/new/family", data={"index_code": "E31B"})
    assert response.status_code == 302
    application = case_of(applicant)
    assert application.reference.startswith("E31B-")
    assert cases.read_runtime(application).data["index_code"] == "E31B"
    assert "Family KITAS (E31B)" in _text(client.get("/applications/"))  # her list names the case's index
    # The relation step shows it read-only; a posted other relation is ignored.
    relation = _text(client.get(task_url(application, "family_relation")))
    assert (
        'data-testid="readonly-index_code" aria-describedby="index_code-help">Spouse of a KITAS or KITAP holder (E31B)<'
        in relation
    )
    assert "Chosen when the application started" in relation and 'name="index_code"' not in relation
    assert post_form(client, task_url(application, "family_relation"), {"index_code": "E31C"}).status_code == 302
    assert cases.read_runtime(application).data["index_code"] == "E31B"
    # ... and the family member's step holds her to it: the spouse of a permit holder has a permit holder.
    post_form(client, task_url(application, "family_applicant_data"), APPLICANT_DATA)
    refused = post_form(client, task_url(application, "family_member_data"), MEMBER_DATA)
    assert refused.status_code == 422 and form_errors(refused) == ["This value must be permit_holder."]


@pytest.mark.usefixtures("types")
def test_an_index_the_type_does_not_have_is_refused_and_no_case_starts(users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["applicant"])
    response = client.post("/applications/new/family", data={"index_code": "E30A"})
    assert response.status_code == 422
    text = _text(response)
    assert "E30A is not an index code of this KITAS type; choose one of E31A, E31B, E31C." in text
    assert 'value="E31A" required>' in text  # the choices again
    assert _cases() == 0
    # Nothing chosen on the choice page (it always posts the field): asked again, no case with a default.
    nothing = client.post("/applications/new/student", data={"index_code": ""})
    assert nothing.status_code == 422
    assert "Choose the index code the application is for: E30A, E30B, E30." in _text(nothing)
    assert _cases() == 0
    with pytest.raises(InvalidInput) as refused:
        cases.start_case("worker", users["applicant"], index_code="E31A")
    assert "choose one of E23" in refused.value.errors["index_code"][0]
    assert _cases() == 0


@pytest.mark.usefixtures("types")
def test_the_refusal_in_indonesian(ctx: Any, login_as: Any) -> None:
    from tests.factories import make_user

    budi = make_user("applicant", email="budi@example.id", language="id", confirmed=True)
    response = login_as(budi).post("/applications/new/student", data={"index_code": "E31A"})
    assert response.status_code == 422
    text = _text(response)
    assert "E31A bukan kode indeks jenis KITAS ini; pilih salah satu dari E30A, E30B, E30." in text
    assert "Izin mana yang Anda mohonkan?" in text


@pytest.mark.usefixtures("types")
def test_a_student_chooses_the_study_at_the_start_and_the_study_step_shows_it(
    users: dict[str, Any], login_as: Any
) -> None:
    applicant = users["applicant"]
    client = login_as(applicant)
    assert client.post("/applications/new/student", data={"index_code": "E30"}).status_code == 302
    application = case_of(applicant)
    assert application.reference.startswith("E30-")
    application = cases.complete_task(
        application.id,
        _open(application, "student_applicant_data"),
        applicant,
        {**APPLICANT_DATA, "passport_expiry": "2031-05-31"},
    )
    study = _text(client.get(task_url(application, "study_data")))
    assert "Non-formal course (E30)" in study and "Chosen when the application started" in study


def _open(application: Application, element_id: str) -> str:
    from tests.web.pages import open_task_row

    return open_task_row(application.id, element_id).task_id


@pytest.mark.usefixtures("types")
def test_a_type_of_one_index_asks_only_the_province_and_the_type_page_hands_the_index_on(
    users: dict[str, Any], login_as: Any, client: FlaskClient
) -> None:
    login_as(users["applicant"])
    start = _text(client.get("/applications/new/worker"))
    assert 'name="domicile_province"' in start and 'name="index_code"' not in start
    assert client.post("/applications/new/worker", data={"domicile_province": "Bali"}).status_code == 302
    assert case_of(users["applicant"]).reference.startswith("E23-")
    page = _text(client.get("/types/family?index=E31C"))
    assert 'href="/applications/new/family?index=E31C"' in page
    assert 'href="/applications/new/worker"' in _text(client.get("/types/worker"))
