"""Driving the people's pages with the Flask test client, step by step."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from kitas.extensions import app_clock, db
from kitas.models import Application, HumanTask, User
from kitas.services import notifications
from tests.uploads import jpeg_bytes, pdf_bytes, png_bytes
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA


def verified(*users: User) -> None:
    """Mark users' e-mail addresses as confirmed (what the verification link does)."""
    for user in users:
        user.email_verified_at = app_clock().now()
    db.session.commit()


def invitation_path(inbox: list[Any], email: str) -> str:
    """Sends the mail that is due and gives the path of the newest invitation link mailed to ``email``."""
    notifications.deliver_due()
    body = [m for m in inbox if m["To"] == email][-1].get_content()
    found = re.search(r"http://kitas\.test(/auth/invitation/\S+)", body)
    assert found, body
    return found.group(1)


def open_task_row(application_id: int, element_id: str) -> HumanTask:
    """The open task of a case for an element (fresh from the database)."""
    db.session.expire_all()
    row = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application_id, HumanTask.element_id == element_id)
    ).first()
    assert row is not None, f"no open task {element_id}"
    return row


def case_of(user: User) -> Application:
    """The newest case of an applicant."""
    db.session.expire_all()
    application = db.session.scalars(
        select(Application).where(Application.applicant_id == user.id).order_by(Application.id.desc())
    ).first()
    assert application is not None
    return application


def start_worker_case(client: FlaskClient, applicant: User) -> Application:
    """Start a worker application through the dashboard's button."""
    response = client.post("/applications/new/worker")
    assert response.status_code == 302, response.get_data(as_text=True)
    return case_of(applicant)


def task_url(application: Application, element_id: str, prefix: str = "/applications") -> str:
    """The page of a case's open task in a blueprint."""
    task = open_task_row(application.id, element_id)
    if prefix == "/applications":
        return f"/applications/{application.reference}/tasks/{task.task_id}"
    return (
        f"{prefix}/{'cases' if prefix == '/officer' else 'applications'}/{application.reference}/tasks/{task.task_id}"
    )


def flatten_form(data: dict[str, Any]) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """A task form's data as a browser posts it: text fields (booleans as true/false, table rows as
    ``key-index-column``) and files (``(name, bytes)``)."""
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for key, value in data.items():
        if isinstance(value, tuple):
            files[key] = value
        elif isinstance(value, bool):
            fields[key] = "true" if value else "false"
        elif isinstance(value, list):
            for index, row in enumerate(value):
                for name, cell in row.items():
                    fields[f"{key}-{index}-{name}"] = str(cell)
        else:
            fields[key] = str(value)
    return fields, files


def post_form(client: FlaskClient, url: str, data: dict[str, Any], action: str = "submit") -> TestResponse:
    """Post a task form as the browser would (text fields as text, files as uploads)."""
    fields, files = flatten_form(data)
    form: dict[str, Any] = {"action": action, **fields}
    form.update({key: (io.BytesIO(content), name) for key, (name, content) in files.items()})
    return client.post(url, data=form, content_type="multipart/form-data")


def good_documents() -> dict[str, tuple[str, bytes]]:
    """One valid file per document of the worker checklist."""
    return {
        "passport_scan": ("passport.pdf", pdf_bytes()),
        "photo": ("photo.jpg", jpeg_bytes()),
        "rptka_approval": ("rptka.pdf", pdf_bytes()),
        "employment_contract": ("contract.pdf", pdf_bytes(2)),
        "sponsor_letter": ("letter.png", png_bytes()),
        "company_nib": ("nib.pdf", pdf_bytes()),
    }


def fill_until_sponsor(client: FlaskClient, application: Application) -> None:
    """The applicant fills their two forms and confirms her answers; the case then waits for the sponsor."""
    for element_id, data in (("applicant_data", APPLICANT_DATA), ("employment_data", EMPLOYMENT_DATA)):
        response = post_form(client, task_url(application, element_id), data)
        assert response.status_code == 302, _errors(response)
    confirm_answers(client, application, "employment_data")


def check_url(application: Application, element_id: str) -> str:
    """The "check your answers" page after an applicant step."""
    return task_url(application, element_id) + "/check"


def confirm_answers(client: FlaskClient, application: Application, element_id: str) -> TestResponse:
    """The applicant, at "check your answers" after ``element_id``, confirms and sends them on."""
    url = check_url(application, element_id)
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="check-answers"' in page.get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True))
    response = client.post(url, data={"version": version.group(1) if version else ""})
    assert response.status_code == 302, _errors(response)
    return response


def _errors(response: TestResponse) -> str:
    text = response.get_data(as_text=True)
    return "; ".join(re.findall(r'class="invalid-feedback[^"]*"[^>]*>([^<]+)<', text)) or text[:2000]


def form_errors(response: TestResponse) -> list[str]:
    """The field error messages a page shows."""
    return re.findall(r'class="invalid-feedback[^"]*"[^>]*>([^<]+)<', response.get_data(as_text=True))


PASSWORD = "tropical mango lantern 42"


def registration_form(**overrides: Any) -> dict[str, Any]:
    """A valid registration form, with ``overrides`` (None removes a field)."""
    data: dict[str, Any] = {
        "full_name": "Maria Silva",
        "email": "maria@example.org",
        "phone": "+62 812 3456 7890",
        "nationality": "BR",
        "kind": "applicant",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "consent": "1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def filter_count(page: str, facet: str, value: str) -> int:
    """The count a filter's option shows (the quick links of the claim filter; the option lists' numbers)."""
    if facet == "claim":
        found = re.search(rf'data-testid="count-claim-{value}">(\d+)<', page)
    else:
        found = re.search(
            rf'<select[^>]*name="{facet}".*?<option value="{value}"[^>]*>[^<]*\((\d+)\)</option>', page, re.S
        )
    assert found, f"no count for {facet}={value}"
    return int(found.group(1))
