"""Accessibility of the applicant's, the sponsor's and the public pages, checked by axe-core in a real browser.

axe-core (the npm package, copied into kitas/static/vendor by scripts/vendor.sh) is injected into each page
and run; a serious or critical violation fails the test with its rule, the element and the page. Every page
is checked at a desktop width (1280 px) and a phone width (375 px, where nothing may make the whole page
scroll sideways: wide tables scroll in their own labelled container), in English and in Indonesian. A form
page is also checked with its errors shown (the error summary is focused, every field in error is marked
``aria-invalid`` and described by its message). One more test registers and fills the first form with the
keyboard alone.

One live server for the module; the applicant and the sponsor each keep one signed-in browser context.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.starting import E2E_PROVINCE
from tests.uploads import jpeg_bytes, pdf_bytes, png_bytes
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, Mailbox

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent
AXE_FILES = (ROOT / "kitas/static/vendor/axe.min.js", ROOT / "node_modules/axe-core/axe.min.js")
WIDTHS = (1280, 375)
LANGUAGES = ("en", "id")
# The document checklist's fields and the files sent for them.
DOCUMENTS = {
    "passport_scan": ("passport.pdf", pdf_bytes),
    "photo": ("photo.jpg", jpeg_bytes),
    "rptka_approval": ("rptka.pdf", pdf_bytes),
    "employment_contract": ("contract.png", png_bytes),
    "sponsor_letter": ("sponsor-letter.pdf", pdf_bytes),
    "company_nib": ("nib.jpg", jpeg_bytes),
}

# What runs in the page: axe's serious and critical violations, each with the elements concerned.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " " + n.html.slice(0, 160)
                                        + (n.failureSummary ? " | " + n.failureSummary.replace(/\\s+/g, " ") : ""))}));
}"""
# Elements wider than the window at a phone width (the page would scroll sideways), outside scroll containers.
WIDER_THAN_WINDOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width + 1) return [];
  const inScroller = el => { for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
  return [...document.body.querySelectorAll("*")]
    .filter(el => el.getBoundingClientRect().right > width + 1 && !inScroller(el))
    .slice(0, 5).map(el => el.outerHTML.slice(0, 160));
}"""

# Whether a control's aria-describedby names its error message.
DESCRIBED_BY_ERROR = """el => (el.getAttribute("aria-describedby") || "").split(/\\s+/)
  .some(id => { const d = document.getElementById(id);
                return d !== null && d.classList.contains("invalid-feedback"); })"""


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (imported late: the module is collected even where playwright is missing)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's browser build, from the vendor folder or node_modules."""
    for path in AXE_FILES:
        if path.exists():
            return path.read_text(encoding="utf-8")
    pytest.fail("axe-core is missing: run scripts/vendor.sh (npm ci) first", pytrace=False)


@dataclass
class Audit:
    """The problems found so far, reported together at the end of a test."""

    axe_source: str
    problems: list[str] = field(default_factory=list)

    def check(self, page: Any, where: str) -> None:
        """Run axe on the page as it is now (and, at a phone width, look for sideways scrolling)."""
        page.wait_for_load_state("load")
        label = (
            f"{where} [{page.url}, {page.viewport_size['width']}px, lang={page.locator('html').get_attribute('lang')}]"
        )
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the browser's devtools protocol: the page's Content-Security-Policy (no inline
            # scripts) stays on, as in production.
            page.evaluate(f"() => {{ {self.axe_source}\n }}")
        for violation in page.evaluate(RUN_AXE):
            nodes = "\n      ".join(violation["nodes"][:5])
            self.problems.append(
                f"{label}: {violation['impact']} {violation['id']} ({violation['help']})\n      {nodes}"
            )
        if page.viewport_size["width"] < 576:
            wide = page.evaluate(WIDER_THAN_WINDOW)
            if wide:
                self.problems.append(f"{label}: the page scrolls sideways because of\n      " + "\n      ".join(wide))

    def assert_clean(self) -> None:
        """Fail with every problem found."""
        assert not self.problems, f"{len(self.problems)} accessibility problems:\n" + "\n".join(self.problems)


# A page to check: its name, and how to bring the browser there (a URL, or steps that end on the page).
Visit = tuple[str, str | Callable[[Any], None]]


def check_everywhere(audit: Audit, page: Any, visits: list[Visit]) -> None:
    """Each page in both languages and at both widths."""
    for language in LANGUAGES:
        choose_language(page, language)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for name, how in visits:
                if isinstance(how, str):
                    page.goto(how)
                else:
                    how(page)
                audit.check(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})
    choose_language(page, "en")


def choose_language(page: Any, language: str) -> None:
    """Press the language switch (signed in, it is remembered in the account too)."""
    if page.url == "about:blank":
        page.goto("/")
    if page.locator("html").get_attribute("lang") == language:
        return
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator(f"[data-testid=language-switch] button[value={language}]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def failed_submit(url: str, button: str = "main form [type=submit]") -> Callable[[Any], None]:
    """Open the form and send it empty: it comes back with its errors, and the summary has the focus."""

    def steps(page: Any) -> None:
        page.goto(url)
        page.locator(button).first.click()
        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
        links = summary.locator("a[href^='#']").all()
        assert links, f"the error summary on {url} links to no field"
        for link in links:
            target = page.locator(str(link.get_attribute("href")))
            if target.evaluate("el => el.tagName") == "LEGEND":  # a list of rows: its own fields are marked
                continue
            expect(target).to_have_attribute("aria-invalid", "true")
            where = f"{link.get_attribute('href')} on {url}"
            assert target.evaluate(DESCRIBED_BY_ERROR), f"{where} is not described by its error message"

    return steps


# -- people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Who signs in."""

    email: str
    password: str
    name: str


def sign_in(page: Any, person: Person) -> None:
    """Sign in through the login page."""
    page.goto("/auth/login")
    page.locator("#f-email").fill(person.email)
    page.locator("#f-password").fill(person.password)
    page.locator("main form [type=submit]").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(person.name)


def confirm_address(page: Any, server: LiveServer, mailbox: Mailbox, person: Person) -> None:
    """Open the link of the confirmation e-mail."""
    message = mailbox.wait_for(person.email, "Confirm your e-mail")
    links = mailbox.links_in(message, server.url)
    assert links, f"no link to {server.url} in the e-mail:\n{mailbox.text_of(message)}"
    page.goto(links[0])
    expect(page.get_by_test_id("verified")).to_contain_text(person.email)


def new_person() -> Person:
    """A new applicant's account details."""
    return Person(f"ari.{secrets.token_hex(3)}@example.org", "Teh-Manis-" + secrets.token_hex(4), "Ari Santoso")


@pytest.fixture(scope="module")
def new_context(browser: Any, live_server: LiveServer) -> Iterator[Callable[[], Any]]:
    """Browser contexts on the live server, closed at the end of the module."""
    contexts: list[Any] = []

    def make() -> Any:
        # en-US: the pages start in English, and a date field takes its digits as mm dd yyyy.
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


# -- the tests --------------------------------------------------------------------------------


def test_public_pages(new_context: Callable[[], Any], axe_source: str) -> None:
    """Home, the KITAS types, a type, the guide (a question, an answer), the FAQ, sign-in, registration (also
    with its errors), forgotten password, errors."""
    page = new_context().new_page()
    page.goto("/types")
    type_page = page.locator("main [data-testid=types] a").first.get_attribute("href")
    assert type_page, "the types page links to no type"
    audit = Audit(axe_source)
    check_everywhere(
        audit,
        page,
        [
            ("home", "/"),
            ("KITAS types", "/types"),
            ("a KITAS type", type_page),
            ("the guide", "/guide"),
            ("the guide, answered", "/guide?a=study&a=university&a=12"),
            ("the FAQ", "/faq"),
            ("sign in", "/auth/login"),
            ("create an account", "/auth/register"),
            ("create an account, with errors", failed_submit("/auth/register")),
            ("forgotten password", "/auth/forgot"),
            ("a broken reset link", "/auth/reset/not-a-token"),
            ("page not found", "/no-such-page"),
        ],
    )
    audit.assert_clean()


def test_applicant_and_sponsor_pages(
    new_context: Callable[[], Any], live_server: LiveServer, mailbox: Mailbox, axe_source: str, tmp_path: Path
) -> None:
    """Every page of a worker application up to the payment, for the applicant and for the sponsor."""
    audit = Audit(axe_source)
    applicant = new_person()
    page = new_context().new_page()
    page.goto("/auth/register")
    page.locator("#f-kind-applicant").check()
    page.locator("#f-full_name").fill(applicant.name)
    page.locator("#f-email").fill(applicant.email)
    page.locator("#f-phone").fill(APPLICANT_DATA["phone"])
    page.locator("#f-nationality").select_option(APPLICANT_DATA["nationality"])
    page.locator("#f-password").fill(applicant.password)
    page.locator("#f-password_confirm").fill(applicant.password)
    page.locator("#f-consent").check()
    page.locator("main form [type=submit]").click()
    expect(page.get_by_test_id("check-email")).to_contain_text(applicant.email)
    audit.check(page, "check your e-mail")
    confirm_address(page, live_server, mailbox, applicant)
    audit.check(page, "address confirmed")
    sign_in(page, applicant)

    # The first two forms: the first is also sent empty once, to see its errors.
    page.goto("/applications/")
    page.get_by_role("link", name=re.compile(r"\(E23\)")).click()
    start_page = page.url
    page.get_by_label("Province where you will live in Indonesia").select_option(E2E_PROVINCE)
    page.get_by_role("button", name="Start this application").click()
    expect(page.get_by_test_id("task-form")).to_be_visible()
    first_form = page.url
    reference = page.get_by_test_id("case-reference").inner_text().strip()
    expiry = date.today().replace(day=1) + timedelta(days=5 * 365)
    data = {**APPLICANT_DATA, "email": applicant.email, "passport_expiry": expiry.isoformat()}
    check_everywhere(
        audit,
        page,
        [
            ("dashboard", "/applications/"),
            ("which family permit", "/applications/new/family?index=E31C"),
            ("the start, with its province", start_page),
            ("applicant details", first_form),
            ("applicant details, with errors", failed_submit(first_form, "[name=action][value=submit]")),
        ],
    )
    page.goto(first_form)
    for name in ("full_name", "date_of_birth", "passport_number", "email", "phone"):
        page.locator(f"#f-{name}").fill(data[name])
    page.locator("#f-passport_expiry").fill(data["passport_expiry"])
    page.locator("#f-nationality").select_option(data["nationality"])
    page.locator("[name=action][value=submit]").click()
    expect(page.locator("#f-employer_name")).to_be_visible()
    second_form = page.url

    sponsor_address, sponsor_name = live_server.staff["sponsor"]
    check_everywhere(
        audit,
        page,
        [
            ("employment details", second_form),
            ("employment details, with errors", failed_submit(second_form, "[name=action][value=submit]")),
        ],
    )
    page.goto(second_form)
    page.locator("#f-employer_name").fill(EMPLOYMENT_DATA["employer_name"])
    page.locator("#f-sponsor_email").fill(sponsor_address)
    page.locator("#f-rptka_number").fill(EMPLOYMENT_DATA["rptka_number"])
    page.locator("#f-position").fill(EMPLOYMENT_DATA["position"])
    page.locator("[name=contract_months][value='12']").check()
    page.locator("[name=action][value=submit]").click()
    # Check your answers: every answer listed with a change link, then sent on.
    expect(page.get_by_test_id("check-answers")).to_be_visible()
    check_everywhere(audit, page, [("check your answers", page.url)])
    page.get_by_test_id("confirm-answers").locator("button").click()
    expect(page.get_by_test_id("case-status")).to_be_visible()

    # The sponsor: the list of guarantees and the decision form, then the decision.
    sponsor = Person(sponsor_address, live_server.staff_password, sponsor_name)
    sponsor_page = new_context().new_page()
    sign_in(sponsor_page, sponsor)
    sponsor_page.goto("/sponsor/")
    row = sponsor_page.get_by_test_id("sponsor-requests").get_by_role("row").filter(has_text=reference)
    decision_form = row.get_by_role("link").first.get_attribute("href")
    assert decision_form
    check_everywhere(
        audit,
        sponsor_page,
        [
            ("guarantees", "/sponsor/"),
            ("guarantee decision", decision_form),
            ("guarantee decision, with errors", failed_submit(decision_form, "[name=action][value=submit]")),
            ("notifications (sponsor)", "/auth/notifications"),
        ],
    )
    sponsor_page.goto(decision_form)
    sponsor_page.locator("[name=sponsor_decision][value=confirm]").check()
    sponsor_page.locator("[name=action][value=submit]").click()
    expect(sponsor_page.get_by_test_id("sponsor-requests")).to_be_visible()

    # The documents, then the payment page.
    page.goto(f"/applications/{reference}/next")
    expect(page.locator("input[type=file]").first).to_be_visible()
    documents_form = page.url
    check_everywhere(audit, page, [("upload documents", documents_form)])
    page.goto(documents_form)
    for name, (file_name, build) in DOCUMENTS.items():
        path = tmp_path / file_name
        path.write_bytes(build())
        page.locator(f"#f-{name}").set_input_files(str(path))
    page.locator("[name=action][value=submit]").click()
    page.get_by_test_id("confirm-answers").locator("button").click()
    expect(page.get_by_test_id("billing-code")).to_be_visible()
    pay_page = page.url
    check_everywhere(
        audit,
        page,
        [
            ("pay the fee", pay_page),
            ("application status", f"/applications/{reference}"),
            ("dashboard with an application", "/applications/"),
            ("notifications", "/auth/notifications"),
            ("profile", "/auth/profile"),
            (
                "profile, password form with errors",
                failed_submit("/auth/profile", "[data-testid=password-form] [type=submit]"),
            ),
            ("security", "/auth/security"),
            ("not allowed", "/sponsor/"),
        ],
    )
    audit.assert_clean()
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)


def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the element has the focus (and check that it shows)."""
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} was not reached with {limit} presses of Tab on {page.url}")


def test_keyboard_only(new_context: Callable[[], Any], live_server: LiveServer, mailbox: Mailbox) -> None:
    """Register, sign in, start an application and send the first form with Tab, Space, Enter and typing."""
    person = new_person()
    page = new_context().new_page()
    page.goto("/auth/register")
    tab_to(page, "#f-kind-applicant")
    page.keyboard.press("Space")
    expect(page.locator("#f-kind-applicant")).to_be_checked()
    for name, text in (("full_name", person.name), ("email", person.email), ("phone", APPLICANT_DATA["phone"])):
        tab_to(page, f"#f-{name}")
        page.keyboard.type(text)
    tab_to(page, "#f-nationality")
    page.keyboard.type("Brazil")  # a closed select picks the first option that starts with what is typed
    expect(page.locator("#f-nationality")).to_have_value(APPLICANT_DATA["nationality"])
    for name in ("password", "password_confirm"):
        tab_to(page, f"#f-{name}")
        page.keyboard.type(person.password)
    tab_to(page, "#f-consent")
    page.keyboard.press("Space")
    tab_to(page, "main form [type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("check-email")).to_contain_text(person.email)
    confirm_address(page, live_server, mailbox, person)

    page.goto("/auth/login")
    tab_to(page, "#f-email")
    page.keyboard.type(person.email)
    tab_to(page, "#f-password")
    page.keyboard.type(person.password)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("signed-in-as")).to_have_text(person.name)

    page.goto("/applications/")
    tab_to(page, "main a:has-text('(E23)')")
    page.keyboard.press("Enter")
    tab_to(page, "#f-domicile_province")
    page.keyboard.type(E2E_PROVINCE)  # a closed select picks the option that starts with what is typed
    expect(page.locator("#f-domicile_province")).to_have_value(E2E_PROVINCE)
    tab_to(page, "main form [type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("task-form")).to_be_visible()
    # Sent empty first: the focus lands on the error summary, and its first link leads to the field.
    tab_to(page, "[name=action][value=submit]")
    page.keyboard.press("Enter")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    first_problem = summary.locator("a").first.get_attribute("href")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(str(first_problem))).to_be_focused()

    expiry = (date.today().replace(day=1) + timedelta(days=5 * 365)).isoformat()
    for name, text in (
        ("full_name", APPLICANT_DATA["full_name"]),
        ("passport_number", APPLICANT_DATA["passport_number"]),
        ("email", person.email),
        ("phone", APPLICANT_DATA["phone"]),
    ):
        tab_to(page, f"#f-{name}")
        page.keyboard.press("Control+a")
        page.keyboard.type(text)
    tab_to(page, "#f-nationality")
    page.keyboard.type("Brazil")
    for name, day in (("date_of_birth", APPLICANT_DATA["date_of_birth"]), ("passport_expiry", expiry)):
        tab_to(page, f"#f-{name}")
        year, month, dd = day.split("-")
        page.keyboard.type(f"{month}{dd}{year}")  # chromium's date field in an en-US browser: mm dd yyyy
        expect(page.locator(f"#f-{name}")).to_have_value(day)
    tab_to(page, "[name=action][value=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#f-employer_name")).to_be_visible()
