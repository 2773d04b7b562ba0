"""A sponsor starts a group application for two people in a real browser and follows both on one page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.starting import choose_province
from tests.e2e.test_accessibility import AXE_FILES, Audit, check_everywhere, failed_submit
from tests.e2e.test_worker_journey import expect, sign_in, staff
from tests.e2e.words import Words

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PEOPLE = [
    ("Maria Santos", "maria.santos@team.example.org", "PT"),
    ("Joao Santos", "joao.santos@team.example.org", "BR"),
]


@pytest.fixture(scope="module")
def axe() -> str:
    """axe-core's browser build (as the accessibility test finds it)."""
    for path in AXE_FILES:
        if path.exists():
            return path.read_text(encoding="utf-8")
    pytest.fail("axe-core is missing: run scripts/vendor.sh (npm ci) first", pytrace=False)


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_sponsor_starts_a_group_of_two_and_sees_both_on_the_group_page(
    browser_context: Any, live_server: LiveServer, words: Words
) -> None:
    page = browser_context.new_page()
    page.goto("/")
    sign_in(page, words, staff(live_server, "sponsor"))
    page.goto("/sponsor/")
    page.get_by_test_id("groups-link").click()
    expect(page.get_by_role("heading", name=words("Group applications"))).to_be_visible()
    page.get_by_test_id("group-start").get_by_role("link").first.click()
    form = page.get_by_test_id("group-form")
    choose_province(page, words, "Province where the sponsor is based")
    form.get_by_label(words("Employer (company name)")).fill("PT Contoh Teknologi")
    form.get_by_label(words("RPTKA approval number")).fill("RPTKA-2026-00042")
    for index, (name, email, country) in enumerate(PEOPLE):
        page.locator(f"#f-members-{index}-full_name").fill(name)
        page.locator(f"#f-members-{index}-email").fill(email)
        page.locator(f"#f-members-{index}-nationality").select_option(country)
    page.get_by_test_id("start-group").click()

    members = page.get_by_test_id("group-member")
    expect(members).to_have_count(2)
    for index, (name, _, _) in enumerate(PEOPLE):
        expect(members.nth(index)).to_contain_text(name)
        expect(members.nth(index)).to_contain_text(words("Draft"))
    # Each member's own steps open from the group page, filled with what the sponsor listed.
    members.nth(1).get_by_role("link").nth(1).click()
    expect(page.get_by_role("heading", name=words("Applicant details"))).to_be_visible()
    expect(page.get_by_label(words("Full name"))).to_have_value(PEOPLE[1][0])
    expect(page.get_by_label(words("E-mail address"))).to_have_value(PEOPLE[1][1])
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)


def test_the_group_pages_are_accessible(browser_context: Any, live_server: LiveServer, words: Words, axe: str) -> None:
    """axe-core on every group page, in both languages and at both widths (the form with its errors too)."""
    page = browser_context.new_page()
    page.goto("/")
    sign_in(page, words, staff(live_server, "sponsor"))
    page.goto("/sponsor/groups/new/worker")
    choose_province(page, words, "Province where the sponsor is based")
    page.get_by_label(words("Employer (company name)")).fill("PT Contoh Teknologi")
    page.get_by_label(words("RPTKA approval number")).fill("RPTKA-2026-00042")
    page.locator("#f-members-0-full_name").fill(PEOPLE[0][0])
    page.locator("#f-members-0-email").fill("solo." + PEOPLE[0][1])
    page.locator("#f-members-0-nationality").select_option(PEOPLE[0][2])
    page.get_by_test_id("start-group").click()
    expect(page.get_by_test_id("group-member")).to_have_count(1)
    group_page = page.url
    audit = Audit(axe)
    check_everywhere(
        audit,
        page,
        [
            ("group applications", "/sponsor/groups/"),
            ("start a group", "/sponsor/groups/new/worker"),
            ("start a group, with errors", failed_submit("/sponsor/groups/new/worker", "[data-testid=start-group]")),
            ("start a family group", "/sponsor/groups/new/family"),
            ("start a group of students", "/sponsor/groups/new/student"),
            ("a group", group_page),
            ("a group's payment", group_page + "/payment"),
        ],
    )
    audit.assert_clean()
