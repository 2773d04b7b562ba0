"""The studio's "Try this version": the button on a draft, the trial page, a step as each role with the
same task form, bad input kept, timers and the sandbox payment, and who may open these pages."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, HumanTask
from kitas.services.studio import drafts
from tests.factories import make_user
from tests.services.helpers import start_until_verification
from tests.web.pages import good_documents, post_form
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA

pytestmark = pytest.mark.usefixtures("worker")


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _draft(analyst: Any) -> int:
    draft = drafts.open_draft("kitas_worker", analyst)
    bpmn = draft.bpmn_xml.replace('name="Fill in applicant data"', 'name="Fill in your data"', 1)
    return drafts.save_draft(draft.id, draft.revision, analyst, bpmn_xml=bpmn).id


def _trial(client: Any, draft_id: int) -> Application:
    response = client.post(f"/studio/drafts/{draft_id}/try")
    assert response.status_code == 302 and "/studio/trials/" in response.headers["Location"]
    return db.session.scalars(select(Application).where(Application.trial).order_by(Application.id.desc())).first()


def _step_url(client: Any, application: Application, element_id: str) -> str:
    """The trial page's "Do this step as ..." link of ``element_id``."""
    page = _text(client.get(f"/studio/trials/{application.reference}"))
    found = re.search(
        rf'data-element="{element_id}">.*?href="(/studio/trials/[^"]+/tasks/[^"]+)"[^>]*data-testid="do-step"',
        page,
        re.S,
    )
    assert found, f"no step {element_id} on the trial page"
    return found.group(1)


def test_the_draft_page_offers_the_try_and_lists_what_keeps_it_from_running(
    users: dict[str, Any], login_as: Any
) -> None:
    analyst = users["analyst"]
    client = login_as(analyst)
    draft = drafts.open_draft("kitas_worker", analyst)
    page = _text(client.get(f"/studio/drafts/{draft.id}"))
    assert 'data-testid="try-version"' in page
    broken = draft.bpmn_xml.replace('calledElement="shared_payment"', 'calledElement="shared_nowhere"', 1)
    drafts.save_draft(draft.id, draft.revision, analyst, bpmn_xml=broken)
    refused = client.post(f"/studio/drafts/{draft.id}/try")
    assert refused.status_code == 422
    text = _text(refused)
    assert 'data-testid="trial-problems"' in text and "call_payment" in text and "shared_nowhere" in text
    assert db.session.scalars(select(Application)).first() is None


def test_each_role_does_its_step_from_the_trial_page(users: dict[str, Any], login_as: Any) -> None:
    analyst = users["analyst"]
    client = login_as(analyst)
    draft_id = _draft(analyst)
    application = _trial(client, draft_id)
    page = _text(client.get(f"/studio/trials/{application.reference}"))
    assert "Do this step as applicant" in page and "Fill in your data" in page
    url = _step_url(client, application, "applicant_data")
    form = _text(client.get(url))
    assert 'data-testid="task-form"' in form and "You act as applicant" in form
    # Bad input: the error beside the field, everything typed kept.
    bad = post_form(client, url, {**APPLICANT_DATA, "date_of_birth": "not a date", "full_name": "Tia Trial"})
    assert bad.status_code == 422
    assert 'value="Tia Trial"' in _text(bad) and "invalid-feedback" in _text(bad)
    done = post_form(client, url, APPLICANT_DATA)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/studio/trials/{application.reference}")
    assert post_form(client, _step_url(client, application, "employment_data"), EMPLOYMENT_DATA).status_code == 302
    assert "Do this step as sponsor" in _text(client.get(f"/studio/trials/{application.reference}"))
    sponsor = _step_url(client, application, "sponsor_confirmation")
    assert post_form(client, sponsor, {"sponsor_decision": "confirm"}).status_code == 302
    checklist = _step_url(client, application, "document_checklist")
    assert post_form(client, checklist, good_documents()).status_code == 302
    page = _text(client.get(f"/studio/trials/{application.reference}"))
    assert 'data-testid="trial-pay"' in page and 'data-testid="fire-timer"' in page
    assert client.post(f"/studio/trials/{application.reference}/pay").status_code == 302
    assert "Do this step as verifier" in _text(client.get(f"/studio/trials/{application.reference}"))
    verify = _step_url(client, application, "verify_documents")
    assert "You act as verifier" in _text(client.get(verify))
    decided = post_form(client, verify, {"verification_decision": "approve", "interview_required": False})
    assert decided.status_code == 302, _text(decided)[:3000]
    approve = _step_url(client, application, "supervisor_approval")
    assert post_form(client, approve, {"approval_decision": "approve"}).status_code == 302
    assert "Do this step as applicant" in _text(client.get(f"/studio/trials/{application.reference}"))
    # The draft's list of trials, and discarding them.
    listing = _text(client.get(f"/studio/drafts/{draft_id}/trials"))
    assert application.reference in listing and 'data-testid="discard-trials"' in listing
    assert client.post(f"/studio/drafts/{draft_id}/trials/discard").status_code == 302
    assert db.session.get(Application, application.id).closed_at is not None
    assert 'data-testid="discard-trials"' not in _text(client.get(f"/studio/drafts/{draft_id}/trials"))


def test_the_timers_fire_now(users: dict[str, Any], login_as: Any) -> None:
    analyst = users["analyst"]
    client = login_as(analyst)
    application = _trial(client, _draft(analyst))
    for element, data in (
        ("applicant_data", APPLICANT_DATA),
        ("employment_data", EMPLOYMENT_DATA),
        ("sponsor_confirmation", {"sponsor_decision": "confirm"}),
        ("document_checklist", good_documents()),
    ):
        assert post_form(client, _step_url(client, application, element), data).status_code == 302
    page = _text(client.get(f"/studio/trials/{application.reference}"))
    timer = re.search(r'action="(/studio/trials/[^"]+/timers/\d+/fire)"', page)
    assert timer
    assert client.post(timer.group(1)).status_code == 302
    after = _text(client.get(f"/studio/trials/{application.reference}"))
    assert "The timer fired." in after and 'data-testid="trial-pay"' not in after
    assert client.post(timer.group(1)).status_code == 302  # again: it no longer waits, said plainly
    assert "no longer waits" in _text(client.get(f"/studio/trials/{application.reference}"))


def test_only_the_analyst_who_started_it_opens_a_trial_and_officers_never_do(
    users: dict[str, Any], login_as: Any
) -> None:
    analyst = users["analyst"]
    application = _trial(login_as(analyst), _draft(analyst))
    task = db.session.scalars(select(HumanTask).where(HumanTask.application_id == application.id)).one()
    for who in ("verifier", "supervisor", "applicant"):
        client = login_as(users[who])
        assert client.get(f"/studio/trials/{application.reference}").status_code == 403
        assert client.post("/studio/drafts/1/try").status_code == 403
    real = start_until_verification(users)  # side by side: the real case opens, the trial does not
    verifier = login_as(users["verifier"])
    assert verifier.get(f"/officer/cases/{real.reference}").status_code == 200
    assert verifier.get(f"/officer/cases/{application.reference}").status_code == 404
    assert verifier.get(f"/officer/cases/{application.reference}/tasks/{task.task_id}").status_code == 404
    admin = make_user("admin", "verifier", "supervisor", email="adi@imigrasi.example", name="Adi Admin")
    admin_client = login_as(admin)
    assert admin_client.get(f"/officer/cases/{application.reference}").status_code == 404
    inbox = _text(admin_client.get("/officer/"))
    assert real.reference in inbox and application.reference not in inbox
    assert admin_client.get(f"/studio/trials/{application.reference}").status_code == 404  # not hers
    # The admins' case page (behind incidents) shows it, marked as a trial; a real case is not marked.
    assert 'data-testid="trial-mark"' in _text(admin_client.get(f"/admin/cases/{application.reference}"))
    assert 'data-testid="trial-mark"' not in _text(admin_client.get(f"/admin/cases/{real.reference}"))
    other = make_user("analyst", email="otto.analyst@imigrasi.example", name="Otto Analyst")
    other_client = login_as(other)
    assert other_client.get(f"/studio/trials/{application.reference}").status_code == 404
    assert other_client.get(f"/studio/trials/{application.reference}/tasks/{task.task_id}").status_code == 404
