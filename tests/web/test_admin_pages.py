"""The administrators' incident pages, the applicant's neutral message and the officer's alert."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask

from engine import ManualClock
from kitas.extensions import db
from kitas.services import cases, leases, notifications
from kitas.services.incidents import records
from kitas.transactions import write_transaction
from tests.services.helpers import open_task, start_until_verification
from tests.services.incident_cases import deploy_broken, deploy_fixed, fresh, incidents, start
from tests.services.test_notifications import FailingMailer
from tests.web.pages import task_url

NEUTRAL = "We are looking into a problem with your application; you do not need to do anything."


@pytest.fixture()
def stuck(ctx: Flask, users: dict[str, Any]) -> int:
    """A case whose applicant submitted the form; the script after it failed (an open incident)."""
    deploy_broken()
    application = start(users["applicant"], path="form")
    task = open_task(application.id, "submit_answers")
    cases.complete_task(application.id, task.task_id, users["applicant"], {"amount": 5})
    return application.id


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_admins_see_the_open_incidents_with_their_case_element_error_and_attempts(
    stuck: int, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["admin"])
    page = _text(client.get("/admin/incidents"))
    reference = fresh(stuck).reference
    assert 'data-testid="nav-incidents"' in page
    assert f'href="/admin/cases/{reference}"' in page
    assert "Script error" in page and "Compute the fee" in page and "name 'rate' is not defined" in page
    [row] = page.split('data-testid="incident-row"')[1:]
    assert 'data-testid="attempts">1<' in row
    assert client.get("/admin/").headers["Location"].endswith("/admin/incidents")
    detail = _text(client.get(f"/admin/incidents/{incidents(stuck)[0].id}"))
    assert "Resolve with a note" in detail and "Retry" in detail and "rate" in detail
    case_page = _text(client.get(f"/admin/cases/{reference}"))
    assert 'title="incident_flow"' in case_page and "process version 1" in case_page and "Compute the fee" in case_page


def test_the_nav_link_is_for_admins_only(stuck: int, users: dict[str, Any], login_as: Any) -> None:
    page = _text(login_as(users["verifier"]).get("/officer/"))
    assert 'data-testid="nav-incidents"' not in page


def test_filters_and_paging(ctx: Flask, users: dict[str, Any], login_as: Any, clock: ManualClock) -> None:
    with write_transaction():
        for number in range(27):
            kind = "script_error" if number % 3 else "notification_undeliverable"
            records.open_incident(
                application_id=None, element_id=f"element_{number}", kind=kind, error=f"error {number}", now=clock.now()
            )
            clock.advance(seconds=1)
    client = login_as(users["admin"])
    first = _text(client.get("/admin/incidents"))
    assert first.count('data-testid="incident-row"') == 25 and "Page 1 of 2 (27 in all)" in first
    assert "error 26" in first and "error 1<" not in first  # the most recent failure first
    second = _text(client.get("/admin/incidents?page=2"))
    assert second.count('data-testid="incident-row"') == 2 and "error 0" in second
    assert "status=open" in first and "page=2" in first  # the pager keeps the filters
    only = _text(client.get("/admin/incidents?kind=notification_undeliverable"))
    assert only.count('data-testid="incident-row"') == 9 and "Script error" not in only.split("<tbody>")[1]
    assert 'data-testid="incidents-empty"' in _text(client.get("/admin/incidents?status=resolved"))
    assert _text(client.get("/admin/incidents?status=bogus&kind=bogus")).count('data-testid="incident-row"') == 25
    assert client.get("/admin/incidents?page=99999999999999999999").status_code == 200


def test_retry_after_a_fixed_deployment_goes_on_through_the_page(
    stuck: int, users: dict[str, Any], login_as: Any
) -> None:
    [incident] = incidents(stuck)
    client = login_as(users["admin"])
    failed = client.post(f"/admin/incidents/{incident.id}/retry", follow_redirects=True)
    assert "The retry failed again, so the incident stays open" in _text(failed)
    deploy_fixed()
    response = client.post(f"/admin/incidents/{incident.id}/retry", data={"back": "list"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/incidents")
    page = _text(client.get(response.headers["Location"]))
    assert "Retried: the case went on. It now runs version 2 of its process." in page
    assert 'data-testid="incidents-empty"' in page
    assert fresh(stuck).status == "in_verification"
    again = client.post(f"/admin/incidents/{incident.id}/retry", follow_redirects=True)
    assert "was already resolved by Ada Admin" in _text(again)


def test_resolve_needs_a_note_and_keeps_what_was_typed(stuck: int, users: dict[str, Any], login_as: Any) -> None:
    [incident] = incidents(stuck)
    client = login_as(users["admin"])
    url = f"/admin/incidents/{incident.id}/resolve"
    empty = client.post(url, data={"note": "   "})
    assert empty.status_code == 422 and "Write a note" in _text(empty) and "is-invalid" in _text(empty)
    long_note = "Checked with the analyst. " + "x" * 2000
    too_long = client.post(url, data={"note": long_note})
    assert too_long.status_code == 422 and long_note in _text(too_long)  # nothing typed is lost
    assert incidents(stuck)[0].status == "open"
    done = client.post(url, data={"note": "Applicant withdrew by phone."}, follow_redirects=True)
    page = _text(done)
    assert "The incident is resolved; your note is kept with it." in page
    assert "Applicant withdrew by phone." in page and "Resolve with a note" not in page
    assert incidents(stuck)[0].status == "resolved"


def test_the_incident_posts_need_the_csrf_token(
    stuck: int, users: dict[str, Any], login_as: Any, csrf_on: None
) -> None:
    [incident] = incidents(stuck)
    client = login_as(users["admin"])
    for action in ("retry", "resolve"):
        response = client.post(f"/admin/incidents/{incident.id}/{action}", data={"note": "n"})
        assert response.status_code == 400 and "The form expired" in _text(response)
    assert incidents(stuck)[0].status == "open" and incidents(stuck)[0].retries == 0


@pytest.mark.parametrize("role", ["applicant", "sponsor", "verifier", "supervisor", "analyst"])
def test_other_roles_are_refused_the_admin_pages(stuck: int, users: dict[str, Any], login_as: Any, role: str) -> None:
    [incident] = incidents(stuck)
    client = login_as(users[role])
    reference = fresh(stuck).reference
    for url in ("/admin/incidents", f"/admin/incidents/{incident.id}", f"/admin/cases/{reference}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/incidents/{incident.id}/retry").status_code == 403
    assert client.post(f"/admin/incidents/{incident.id}/resolve", data={"note": "n"}).status_code == 403
    assert incidents(stuck)[0].status == "open" and incidents(stuck)[0].retries == 0


def test_unknown_incidents_and_cases_are_not_found(ctx: Flask, users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["admin"])
    assert client.get("/admin/incidents/999").status_code == 404
    assert client.post("/admin/incidents/999/retry").status_code == 404
    assert client.post("/admin/incidents/999/resolve", data={"note": "n"}).status_code == 404
    assert client.get("/admin/cases/E23-2026-NOSUCHCA").status_code == 404


def test_the_applicant_is_told_neutrally_while_an_incident_is_open(
    stuck: int, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["applicant"])
    reference = fresh(stuck).reference
    page = _text(client.get(f"/applications/{reference}"))
    assert NEUTRAL in page
    assert "rate" not in page and "Compute the fee" not in page and "incident" not in page.lower()
    assert NEUTRAL in _text(client.get(f"/applications/{reference}/timeline"))  # the refreshing block too
    [incident] = incidents(stuck)
    login_as(users["admin"]).post(f"/admin/incidents/{incident.id}/resolve", data={"note": "Handled."})
    assert NEUTRAL not in _text(login_as(users["applicant"]).get(f"/applications/{reference}"))


def test_submitting_a_form_whose_next_script_fails_says_it_was_submitted(
    ctx: Flask, users: dict[str, Any], login_as: Any
) -> None:
    deploy_broken()
    application = start(users["applicant"], path="form")
    client = login_as(users["applicant"])
    response = client.post(task_url(application, "submit_answers"), data={"amount": "5"}, follow_redirects=True)
    page = _text(response)
    assert response.status_code == 200 and "Your answers were submitted." in page and NEUTRAL in page


def test_officers_see_an_alert_on_the_task_page(
    worker: int, users: dict[str, Any], login_as: Any, clock: ManualClock
) -> None:
    application = start_until_verification(users)
    url = task_url(application, "verify_documents", prefix="/officer")
    assert 'data-testid="incident-alert"' not in _text(login_as(users["verifier"]).get(url))
    for _ in range(leases.KINDS["notification"].policy.max_attempts):  # the case's e-mails cannot be sent
        notifications.deliver_due(mailer=FailingMailer())
        clock.advance(hours=7)
    db.session.expire_all()
    assert incidents(application.id)
    page = _text(login_as(users["verifier"]).get(url))
    assert 'data-testid="incident-alert"' in page and "open incident" in page
