"""The officer's case diagram in a real browser: the page, its JSON and the static files come from the application
(through the test client, with the site's Content-Security-Policy), chromium runs bpmn-js' navigated viewer and
js/case-diagram.js, and the path taken, where the case is now and the waiting timer are marked on the diagram and
on the shared step it opens; nothing breaks the policy, and axe finds nothing serious there nor on the applicant's
journey."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kitas.services import cases
from tests.e2e.test_accessibility import AXE_FILES, Audit
from tests.services.helpers import request_corrections, start_until_payment
from tests.worker_data import PAYMENT

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("worker")]

ROOT = Path(__file__).resolve().parents[2]
VIEWER = ROOT / "kitas/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"
SITE = "http://kitas.test"


@pytest.fixture(scope="module")
def axe_script() -> str:
    """axe-core's browser build, as the accessibility tests find it."""
    found = next((path for path in AXE_FILES if path.exists()), None)
    if found is None:
        pytest.skip("axe-core is not installed (npm ci; scripts/vendor.sh)")
    return found.read_text(encoding="utf-8")


@pytest.mark.parametrize("width", [1200, 375])
def test_the_officer_sees_the_marks_on_the_case_and_its_shared_step(
    browser: Any, users: dict[str, Any], login_as: Any, width: int, axe_script: str
) -> None:
    if not VIEWER.is_file():
        pytest.skip("bpmn-js is not installed (npm install; scripts/vendor.sh)")
    application = start_until_payment(users)
    cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    request_corrections(application.id, users["verifier"], "The passport scan is blurred.")
    client = login_as(users["verifier"])

    def serve(route: Any) -> None:
        answer = client.get(route.request.url.removeprefix(SITE))
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        route.fulfill(status=answer.status_code, headers=headers, body=answer.get_data())

    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.route(f"{SITE}/**", serve)
    try:
        page.goto(f"{SITE}/officer/cases/{application.reference}/diagram")
        page.wait_for_selector(".djs-container .djs-element.kitas-current")
        assert page.locator("[data-case-diagram]").is_visible()
        # The worker's own diagram: its steps so far and flows taken, the document review running now.
        assert page.locator(".djs-element.kitas-taken[data-element-id=document_checklist]").count() == 1
        assert page.locator(".djs-element.kitas-current[data-element-id=call_document_review]").count() == 1
        assert page.locator(".djs-connection.kitas-taken").count() >= 8
        assert page.locator("[data-process=kitas_worker][aria-pressed=true]").count() == 1
        # The review's own diagram, opened from the call activity: the correction step now, its deadline waiting.
        page.locator(".djs-element[data-element-id=call_document_review]").click()
        page.wait_for_selector(".djs-element.kitas-current[data-element-id=submit_corrections]")
        assert page.locator(".djs-element.kitas-taken[data-element-id=verify_documents]").count() == 1
        assert page.locator(".djs-element.kitas-timer[data-element-id=correction_deadline]").count() == 1
        assert page.locator("[data-process=shared_document_review][aria-pressed=true]").count() == 1
        # A step of the list shows where it is: back on the worker's diagram.
        page.locator("[data-testid=path-step][data-element=document_checklist] button").click()
        page.wait_for_selector("[data-process=kitas_worker][aria-pressed=true]")
        audit = Audit(axe_script)
        audit.check(page, "the officer's case diagram")
        # The applicant's journey on her status page, from the same trace.
        login_as(users["applicant"])
        page.goto(f"{SITE}/applications/{application.reference}")
        assert page.locator("[data-testid=journey-step][data-state=now]").inner_text().startswith("Submit corrections")
        audit.check(page, "the applicant's journey")
        audit.assert_clean()
        assert problems == []
    finally:
        context.close()
