"""Check your answers, as a service: what the summary lists, a change kept and sent on, a sent step read again."""

from __future__ import annotations

from typing import Any

import pytest

from kitas.services import cases
from kitas.services.cases import answers, taskforms
from kitas.services.errors import Conflict, NotFound
from tests.services.helpers import complete, open_task
from tests.web.pages import flatten_form
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA

pytestmark = pytest.mark.usefixtures("worker")


def _raw(data: dict[str, Any]) -> dict[str, list[str]]:
    fields, _files = flatten_form(data)
    return {key: [value] for key, value in fields.items()}


def _at_the_check(users: dict[str, Any]) -> tuple[Any, str]:
    applicant = users["applicant"]
    application = cases.start_case("worker", applicant)
    complete(application.id, "applicant_data", applicant)
    task_id = open_task(application.id, "employment_data").task_id
    assert taskforms.submit(application.reference, task_id, applicant, _raw(EMPLOYMENT_DATA), {}) is False
    return application, task_id


def test_the_summary_lists_every_answer_of_the_applicants_steps(users: dict[str, Any]) -> None:
    application, task_id = _at_the_check(users)
    page = answers.open_check(application.reference, task_id, users["applicant"])
    assert [s.element_id for s in page.sections] == ["applicant_data", "employment_data"]
    shown = [str(row.value) for section in page.sections for row in section.rows]
    for value in (*APPLICANT_DATA.values(), *EMPLOYMENT_DATA.values()):
        if not isinstance(value, (list, int)):
            assert value in shown, value
    assert any("Acme Ltda" in line for line in page.sections[1].rows[-1].value)
    assert page.changeable == ("applicant_data", "employment_data")
    assert cases.read_runtime(application).ready_user_tasks()[0].element_id == "employment_data"


def test_a_change_is_kept_and_sent_on_with_the_step(users: dict[str, Any]) -> None:
    application, task_id = _at_the_check(users)
    applicant = users["applicant"]
    answers.save_change(
        application.reference,
        task_id,
        "applicant_data",
        applicant,
        _raw({**APPLICANT_DATA, "phone": "+55 11 90000 0000"}),
    )
    with pytest.raises(answers.ChangeRejected) as refused:
        answers.save_change(
            application.reference,
            task_id,
            "applicant_data",
            applicant,
            _raw({**APPLICANT_DATA, "date_of_birth": "2099-01-01"}),
        )
    assert refused.value.page.errors == {"date_of_birth": ["Enter a date in the past."]}
    assert refused.value.page.values["date_of_birth"] == "2099-01-01"
    answers.confirm(application.reference, task_id, applicant)
    stored = cases.read_runtime(application)
    assert (
        stored.data["phone"] == "+55 11 90000 0000" and stored.data["employer_name"] == EMPLOYMENT_DATA["employer_name"]
    )
    assert [t.element_id for t in stored.ready_user_tasks()] == ["sponsor_confirmation"]


def test_a_step_of_another_check_or_another_person_cannot_be_changed(users: dict[str, Any]) -> None:
    application, task_id = _at_the_check(users)
    with pytest.raises(NotFound) as refused:
        answers.open_change(application.reference, task_id, "sponsor_confirmation", users["applicant"])
    assert "cannot be changed here" in str(refused.value)
    with pytest.raises(NotFound):
        answers.open_check(application.reference, task_id, users["other_applicant"])


def test_a_sent_step_is_read_again_by_its_applicant_only(users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    task_id = open_task(application.id, "applicant_data").task_id
    complete(application.id, "applicant_data", users["applicant"])
    page = answers.answered_step(application.reference, task_id, users["applicant"])
    assert [s.element_id for s in page.sections] == ["applicant_data"]
    assert {row.value for row in page.sections[0].rows} >= {"Ana Lima", "FZ1234567"}
    with pytest.raises(Conflict):
        answers.answered_step(application.reference, task_id, users["verifier"])
