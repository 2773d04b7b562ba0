"""An analyst tries a draft in the browser: the trial case, a step as the applicant with a refused input
kept, the pages at a desktop's and a phone's width, and no browser error (the strict CSP included)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.e2e.studio import new_analyst
from tests.e2e.test_worker_journey import Person, expect, sign_in
from tests.e2e.words import Words

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer


def analyst(server: LiveServer) -> Person:
    """An analyst with an authenticator app, as ``kitas demo`` sets one up."""
    return new_analyst(server)


def _shots(page: Any, folder: Path, name: str) -> None:
    """The page at 1200 and at 375 pixels wide (kept in ``folder``, or KITAS_SCREENSHOTS when set)."""
    target = Path(os.environ.get("KITAS_SCREENSHOTS") or folder)
    target.mkdir(parents=True, exist_ok=True)
    for width in (1200, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(target / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} is wider than the screen at {width} px"
    page.set_viewport_size({"width": 1280, "height": 1000})


def test_an_analyst_tries_a_draft_and_does_the_first_step(
    browser_context: Any, live_server: LiveServer, words: Words, tmp_path: Path
) -> None:
    problems: list[str] = []
    page = browser_context.new_page()
    # Errors in the console (a refused script or style: the CSP), not the 422 of the refused form itself.
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None,
    )
    page.goto("/")
    sign_in(page, words, analyst(live_server))
    page.goto("/studio/")
    page.locator('[data-process="kitas_worker"]').get_by_role("button").click()
    expect(page.get_by_test_id("trial-panel")).to_be_visible()
    page.get_by_test_id("try-version").click()
    expect(page.get_by_test_id("trial-reference")).to_be_visible()
    expect(page.get_by_test_id("trial-task")).to_have_count(1)
    _shots(page, tmp_path, "trial")
    page.get_by_test_id("do-step").click()
    expect(page.get_by_test_id("acting-as")).to_contain_text("applicant")
    passport = page.locator("#f-passport_number")
    passport.fill("FZ1234567")
    page.locator('#task-form button[value="submit"]').click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    expect(page.locator("#f-passport_number")).to_have_value("FZ1234567")  # what was typed is kept
    _shots(page, tmp_path, "trial-step")
    page.goto(page.get_by_test_id("trial-reference").get_attribute("href") or "/studio/")
    expect(page.get_by_test_id("trial-status")).to_be_visible()
    assert not problems, problems
