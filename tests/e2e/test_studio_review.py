"""Four eyes in a real browser: an analyst proposes a draft with a comment and is offered no approval;
a second analyst sees the difference (the lists, and both diagrams with the changed task coloured)
and approves; the new version is current."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.studio import new_analyst
from tests.e2e.test_worker_journey import Person, sign_in, sign_out
from tests.e2e.words import Words

pytestmark = pytest.mark.e2e


def _analysts_and_draft(server: LiveServer) -> tuple[Person, Person, int]:
    """Two analysts with an authenticator app, and a draft of the worker whose first task is renamed."""
    from sqlalchemy import select

    from kitas.extensions import db
    from kitas.models import User
    from kitas.services.studio import drafts

    alex, bea = new_analyst(server, "Alex Analyst"), new_analyst(server, "Bea Analyst")
    with server.app.app_context():
        user = db.session.scalars(select(User).where(User.email == alex.email)).one()
        draft = drafts.open_draft("kitas_worker", user)
        bpmn = draft.bpmn_xml.replace('name="Fill in applicant data"', 'name="Your personal data"')
        draft_id = drafts.save_draft(draft.id, draft.revision, user, bpmn_xml=bpmn).id
        db.session.remove()
    return alex, bea, draft_id


def test_a_second_analyst_reviews_the_coloured_difference_and_approves(
    browser_context: Any, live_server: LiveServer, words: Words
) -> None:
    from playwright.sync_api import expect

    alex, bea, draft_id = _analysts_and_draft(live_server)
    errors: list[str] = []
    browser_context.on("weberror", lambda error: errors.append(str(error.error)))
    page = browser_context.new_page()
    # A refused form answers 422 and the favicon 404: those are pages, not script errors (CSP violations are).
    page.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None
    )
    page.goto("/")
    sign_in(page, words, alex)
    page.goto(f"/studio/drafts/{draft_id}/propose")
    expect(page.locator('[data-element="applicant_data"][data-status="changed"]')).to_be_visible()
    page.get_by_role("button", name="Propose for review").click()
    expect(page.get_by_test_id("propose-form").locator(".invalid-feedback")).to_be_visible()  # no comment yet
    page.get_by_label("What does this version change, and why?").fill("Plainer name for the first step")
    page.get_by_role("button", name="Propose for review").click()
    expect(page.get_by_test_id("own-proposal")).to_be_visible()
    expect(page.get_by_test_id("approve")).to_have_count(0)
    proposal_url = page.url
    sign_out(page, words)

    sign_in(page, words, bea)
    page.goto("/studio/proposals")
    page.get_by_role("link", name=proposal_url.rsplit("/", 1)[1].join(("Proposal ", ""))).click()
    expect(page.get_by_text("Plainer name for the first step")).to_be_visible()
    # Both diagrams are drawn, the renamed task coloured as changed on each.
    expect(page.locator("[data-diff-diagram][data-shown]")).to_have_count(2)
    expect(page.locator('[data-side="new"] .djs-element.diff-changed[data-element-id="applicant_data"]')).to_have_count(
        1
    )
    expect(page.locator('[data-side="old"] .djs-element.diff-changed[data-element-id="applicant_data"]')).to_have_count(
        1
    )
    page.get_by_label("Your comment (required to reject)").fill("Reads better")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("proposal-status")).to_have_attribute("data-status", "approved")
    page.goto("/studio/processes/kitas_worker/versions")
    expect(page.locator('[data-version="2"]')).to_contain_text("Plainer name for the first step")
    expect(page.locator('[data-version="2"]')).to_contain_text("current")
    assert errors == [] and live_server.problems == []
