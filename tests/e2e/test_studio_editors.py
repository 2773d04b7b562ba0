"""The studio's form editor and fee table editor in a real browser (strict CSP, htmx, dmn-js).

An analyst opens the worker draft's applicant form: typing in the JSON Schema updates the preview, the
preview switches to Bahasa Indonesia, sample data is checked with the errors beside the fields, a field is
added through the field list. Then fees.dmn opens in dmn-js's decision table, a fee cell is changed, the
test panel computes the new amount, and saving keeps it in the draft. No console errors (CSP included).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.studio import VENDOR_NOISE, new_analyst
from tests.e2e.test_accessibility import Audit, axe_source  # noqa: F401 - the fixture, shared
from tests.e2e.test_worker_journey import Person, expect, sign_in
from tests.e2e.words import Words

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e
FORM = "worker-applicant-data.schema.json"
SHOTS = Path.cwd() / "instance" / "screenshots"  # looked at by hand; never committed (instance/ is ignored)


def _analyst(server: LiveServer) -> Person:
    """An analyst with an authenticator app, created in the live server's database."""
    return new_analyst(server)


def _look(page: Any, name: str, audit: Audit) -> None:
    """The page at a desktop and a phone width: checked by axe (and sideways scrolling), screenshots kept
    under instance/ when that folder exists (a developer's checkout)."""
    for width in (1200, 375):
        page.set_viewport_size({"width": width, "height": 900})
        audit.check(page, name)
        if SHOTS.parent.is_dir():
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name.replace(' ', '-')}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})


def test_an_analyst_edits_a_form_and_the_fee_table(
    browser_context: Any,
    live_server: LiveServer,
    words: Words,
    axe_source: str,  # noqa: F811
) -> None:
    audit = Audit(axe_source)
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: problems.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    page.goto("/")
    sign_in(page, words, _analyst(live_server))
    page.goto("/studio/")
    page.locator('[data-process="kitas_worker"]').get_by_role("button").click()
    draft_url = page.url
    page.goto(draft_url + "/files")
    page.get_by_role("link", name=FORM).click()
    page.wait_for_load_state("load")  # htmx is set up (a person cannot type before that; the test can)
    preview = page.get_by_test_id("form-preview")
    expect(preview.get_by_label("Full name")).to_be_visible()

    schema = page.locator("#schema-text")
    text = schema.input_value()
    schema.fill(text.replace('"title": "Full name"', '"title": "Name as in the passport"'))
    expect(preview.get_by_label("Name as in the passport")).to_be_visible()
    page.get_by_test_id("preview-language").select_option("id")
    expect(page.get_by_test_id("form-preview")).to_have_attribute("data-language", "id")
    expect(page.get_by_test_id("form-preview").get_by_label("Nama lengkap")).to_be_visible()
    page.get_by_test_id("preview-language").select_option("en")
    expect(page.get_by_test_id("form-preview")).to_have_attribute("data-language", "en")
    page.get_by_test_id("form-preview").get_by_label("Name as in the passport").fill("A")
    page.get_by_test_id("check-sample").click()
    expect(page.locator("#full_name-error")).to_contain_text("Enter at least 2 characters.")
    expect(page.locator("#passport_number-error")).to_be_visible()
    _look(page, "form editor", audit)

    page.locator("#new-name").fill("employee_id")
    page.locator("#new-kind").select_option("integer")
    page.locator("#new-title").fill("Employee number")
    page.locator("#new-title_id").fill("Nomor karyawan")
    page.get_by_test_id("add-field-button").click()
    expect(page.get_by_text("The form was saved to the draft.")).to_be_visible()
    expect(page.locator('[data-field="employee_id"]')).to_be_visible()
    expect(page.get_by_test_id("form-preview").get_by_label("Name as in the passport")).to_be_visible()

    page.goto(draft_url + "/decisions/fees.dmn")
    cell = page.locator(".dmn-decision-table-container td", has_text="1700000").first
    expect(cell).to_be_visible()
    _look(page, "decision table editor", audit)
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("1750000")
    page.locator("h1").click()
    expect(page.locator("[data-dmn-dirty]")).to_be_visible()
    page.get_by_test_id("dmn-input-kitas_type").fill("worker")
    page.get_by_test_id("dmn-input-index_code").fill("E23")
    page.get_by_test_id("dmn-input-duration_months").fill("12")
    page.get_by_test_id("dmn-test-button").click()
    expect(page.get_by_test_id("dmn-output-fee_amount")).to_contain_text("1.750.000")
    page.get_by_test_id("save-table").click()
    expect(page.get_by_text("The decision table was saved to the draft.")).to_be_visible()
    expect(page.get_by_test_id("dmn-readonly")).to_contain_text("1750000")
    audit.assert_clean()
    assert not [p for p in problems if not p.startswith(VENDOR_NOISE)], (
        problems
    )  # CSP refusals and script errors show here
