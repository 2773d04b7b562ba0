"""A worker KITAS from registration to "Permit issued", in a real browser against a live server.

Every step goes through the pages as a person would use them: CSRF protection
on, the verification link read from a real e-mail, the payment confirmed by
the provider's signed webhook that the scheduler delivers, the status page
refreshed by its htmx poll. Selectors are labels, roles, visible texts and
``data-testid`` attributes; waits are on elements and texts, never on time.

The journey runs twice: in English and in Bahasa Indonesia (the browser's language). Every text it
looks for goes through ``words`` (tests/e2e/words.py), which reads the service's own translations.
The applicant registers in the browser's language, so their e-mails and SMS come in it too.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.appointments import officer_publishes_times, officers_work_in_an_office, pick_first_free_time
from tests.e2e.permits import check_permit
from tests.e2e.starting import choose_province
from tests.e2e.words import Words
from tests.uploads import jpeg_bytes, pdf_bytes, png_bytes
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, Mailbox

pytestmark = pytest.mark.e2e

# The files of the document checklist, built in code: (field label, file name, bytes).
DOCUMENTS = (
    ("Passport data page", "passport.pdf", pdf_bytes),
    ("Passport photo", "photo.jpg", jpeg_bytes),
    ("RPTKA approval", "rptka.pdf", pdf_bytes),
    ("Employment contract", "contract.png", png_bytes),
    ("Sponsor letter", "sponsor-letter.pdf", pdf_bytes),
    ("Company business ID (NIB)", "nib.jpg", jpeg_bytes),
)


@dataclass(frozen=True)
class Person:
    """Who signs in: e-mail, password, the name the navigation bar shows and (officers) their app's secret."""

    email: str
    password: str
    name: str
    totp_secret: str | None = None


# The last time step whose code each secret signed in with: a code is accepted once only, so the
# next sign-in within the same 30 seconds uses the app's next code (the server accepts one step ahead);
# one more waits until that next step has come (the journey runs twice, in two languages).
_USED_STEPS: dict[str, int] = {}


def next_code(secret: str) -> str:
    """The code an authenticator app with ``secret`` shows, never one the server has already accepted."""
    import time

    import pyotp

    now = int(time.time()) // 30
    step = max(now, _USED_STEPS.get(secret, now - 1) + 1)
    if step > now + 1:  # the journey ran twice within a minute: the app shows that code only a little later
        time.sleep(max(0.0, (step - 1) * 30 - time.time()) + 0.5)
    _USED_STEPS[secret] = step
    return str(pyotp.TOTP(secret).at(step * 30))


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (imported late: the module is collected even where playwright is missing)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def staff(server: LiveServer, role: str) -> Person:
    """One of the accounts the live server was initialised with."""
    address, name = server.staff[role]
    return Person(address, server.staff_password, name, server.staff_totp.get(role))


def next_working_day(after_days: int) -> str:
    """An ISO date at least ``after_days`` from today that falls on Monday to Friday."""
    day = date.today() + timedelta(days=after_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


# -- accounts -------------------------------------------------------------------------------


def sign_in(page: Any, words: Words, person: Person) -> None:
    """Sign in through the login page and wait until the navigation bar names the person."""
    page.get_by_role("link", name=words("Sign in")).first.click()
    expect(page.get_by_role("heading", name=words("Sign in"))).to_be_visible()
    page.get_by_label(words("E-mail address")).fill(person.email)
    page.get_by_label(words("Password"), exact=True).fill(person.password)
    page.get_by_role("button", name=words("Sign in")).click()
    if person.totp_secret:  # officers: the code from their app comes next
        expect(page.get_by_role("heading", name=words("Enter the code from your app"))).to_be_visible()
        page.get_by_label(words("Code")).fill(next_code(person.totp_secret))
        page.get_by_role("button", name=words("Sign in")).click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(person.name)


def sign_out(page: Any, words: Words) -> None:
    """Sign out from the navigation bar."""
    page.get_by_role("button", name=words("Sign out")).click()
    expect(page.get_by_text(words("You are signed out."))).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)


def register_applicant(page: Any, words: Words, server: LiveServer, mailbox: Mailbox) -> Person:
    """Register through the form (consent included), confirm the address from the e-mail, sign in again.
    The account keeps the language of the pages it was created on: its e-mails come in that language."""
    person = Person(f"ana.{secrets.token_hex(3)}@example.org", "Kopi-Tubruk-" + secrets.token_hex(4), "Ana Lima")
    page.goto("/")
    page.get_by_role("link", name=words("Create an account")).first.click()
    expect(page.get_by_role("heading", name=words("Create an account"))).to_be_visible()
    page.get_by_label(words("applying for a permit (KITAS) for myself")).check()
    page.get_by_label(words("Full name")).fill(person.name)
    page.get_by_label(words("E-mail address")).fill(person.email)
    page.get_by_label(words("Phone number")).fill(APPLICANT_DATA["phone"])
    page.get_by_label(words("Nationality")).select_option(APPLICANT_DATA["nationality"])
    page.get_by_label(words("Password"), exact=True).fill(person.password)
    page.get_by_label(words("Password again")).fill(person.password)
    consent = (
        "I agree that the Directorate General of Immigration processes my personal data to handle my account "
        "and applications."
    )
    page.get_by_label(words(consent)).check()
    page.get_by_role("button", name=words("Create my account")).click()
    # The same answer whether or not the address had an account: check your e-mail.
    expect(page.get_by_test_id("check-email")).to_contain_text(person.email)

    message = mailbox.wait_for(person.email, words("Confirm your e-mail address for KITAS Online"))
    text = mailbox.text_of(message)
    assert words("Hello %(name)s,", name=person.name) in text, f"the e-mail is not in {words.language}:\n{text}"
    links = mailbox.links_in(message, server.url)
    assert links, f"no link to {server.url} in the e-mail:\n{text}"
    page.goto(links[0])
    expect(page.get_by_test_id("verified")).to_contain_text(person.email)

    sign_in(page, words, person)
    return person


# -- the applicant's steps ----------------------------------------------------------------------


def open_case(page: Any, words: Words, reference: str) -> None:
    """The case's status page, reached from the dashboard."""
    page.get_by_role("link", name=words("My applications")).first.click()
    page.get_by_test_id("applications").get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=re.compile(reference))).to_be_visible()


def start_worker_application(page: Any, words: Words) -> str:
    """Start a worker KITAS from the dashboard; returns the case's reference."""
    page.get_by_role("link", name=words("My applications")).first.click()
    page.get_by_role("link", name=re.compile(r"\(E23\)")).click()
    choose_province(page, words)
    page.get_by_role("button", name=words("Start this application")).click()
    expect(page.get_by_role("heading", name=words("Applicant details"))).to_be_visible()
    breadcrumb = page.get_by_role("navigation", name=words("Breadcrumb"))
    reference = breadcrumb.get_by_role("link").nth(1).inner_text().strip()
    assert reference and f"/applications/{reference}/" in page.url, f"no case reference on {page.url}"
    return reference


def fill_applicant_data(page: Any, words: Words, email: str) -> None:
    """The first form: personal details as in the passport."""
    type_applicant_data(page, words, email)
    page.get_by_role("button", name=words("Save and continue"), exact=True).click()
    expect(page.get_by_role("heading", name=words("Employment details"))).to_be_visible()


def type_applicant_data(page: Any, words: Words, email: str) -> None:
    """Type the personal details as in the passport into the first form (on any page that shows it)."""
    # The passport must stay valid long enough for the stay, whenever the test runs.
    expiry = date.today().replace(day=1) + timedelta(days=5 * 365)
    data = {**APPLICANT_DATA, "email": email, "passport_expiry": expiry.isoformat()}
    page.get_by_label(words("Full name")).fill(data["full_name"])
    page.get_by_label(words("Nationality")).select_option(data["nationality"])
    page.get_by_label(words("Date of birth")).fill(data["date_of_birth"])
    page.get_by_label(words("Passport number")).fill(data["passport_number"])
    page.get_by_label(words("Passport expiry date")).fill(data["passport_expiry"])
    page.get_by_label(words("E-mail address")).fill(data["email"])
    page.get_by_label(words("Phone number")).fill(data["phone"])


def fill_employment_data(page: Any, words: Words, sponsor_email: str) -> None:
    """The second form: the job, the sponsor's account e-mail and one previous employer."""
    page.get_by_label(words("Employer (company name)")).fill(EMPLOYMENT_DATA["employer_name"])
    page.get_by_label(words("Employer's account e-mail")).fill(sponsor_email)
    page.get_by_label(words("RPTKA approval number")).fill(EMPLOYMENT_DATA["rptka_number"])
    page.get_by_label(words("Job title")).fill(EMPLOYMENT_DATA["position"])
    page.get_by_label(words("1 year (12 months)")).check()
    previous = EMPLOYMENT_DATA["previous_employers"][0]
    employers = page.get_by_role("group", name=words("Previous employers"))
    employers.get_by_label(words("Employer name")).first.fill(previous["name"])
    employers.get_by_label(words("Country")).first.select_option(previous["country"])
    employers.get_by_label(words("From (year)")).first.fill(str(previous["from_year"]))
    employers.get_by_label(words("To (year)")).first.fill(str(previous["to_year"]))
    page.get_by_role("button", name=words("Save and send to employer")).click()
    page.get_by_role("button", name=words("Confirm and send")).click()
    expect(page.get_by_test_id("case-status")).to_have_text(words("Waiting for the sponsor"))


def upload_documents(page: Any, words: Words, reference: str, folder: Path) -> None:
    """The document checklist: six real files written to disk, uploaded, then on to payment."""
    open_case(page, words, reference)
    page.get_by_role("link", name=words("Continue")).click()
    expect(page.get_by_role("heading", name=words("Upload documents"))).to_be_visible()
    for label, name, build in DOCUMENTS:
        path = folder / name
        path.write_bytes(build())
        page.get_by_label(words(label)).set_input_files(str(path))
    page.get_by_role("button", name=words("Save documents and continue to payment")).click()
    page.get_by_role("button", name=words("Confirm and send")).click()


def pay_in_sandbox_bank(page: Any, words: Words, reference: str) -> None:
    """Read the billing code on the pay page, pay it in the sandbox bank in a second tab, and watch the
    status page (left open in the first tab) turn to "Paid, in verification" without a reload."""
    pay_heading = words('Pay the fee for application <span class="text-nowrap">%(reference)s</span>', reference="")
    expect(page.get_by_role("heading", name=re.sub(r"<[^>]+>", "", pay_heading).strip())).to_be_visible()
    billing_code = page.get_by_test_id("billing-code").inner_text().strip()
    amount = page.get_by_test_id("amount").inner_text().strip()
    assert re.fullmatch(r"\d{15}", billing_code), f"unexpected billing code {billing_code!r}"
    bank_link = page.get_by_role("link", name=words("Pay in the sandbox bank")).get_attribute("href")

    open_case(page, words, reference)
    status = page.get_by_test_id("case-status")
    expect(status).to_have_text(words("Awaiting payment"))
    page.evaluate("window.e2eNotReloaded = true")

    bank = page.context.new_page()  # the bank in a second tab: the status page stays open in the first
    bank.goto(bank_link)
    expect(bank.get_by_label(words("Billing code (15 digits)"))).to_have_value(billing_code)
    bank.get_by_role("button", name=words("Continue")).click()
    expect(bank.get_by_test_id("amount")).to_have_text(amount)
    bank.get_by_role("button", name=words("Pay %(amount)s", amount=amount)).click()
    expect(bank.get_by_test_id("bank-receipt")).to_contain_text(billing_code)
    bank.close()

    expect(status).to_have_text(words("Paid, in verification"))
    assert page.evaluate("window.e2eNotReloaded === true"), "the status page was reloaded instead of refreshed"


def book_biometrics(page: Any, words: Words, reference: str) -> None:
    """Choose a free time of the office for the photo and fingerprints (the officers published them);
    the status page then shows the day and time in the office's zone."""
    open_case(page, words, reference)
    page.get_by_role("link", name=words("Continue")).click()
    expect(page.get_by_role("heading", name=words("Book a biometrics appointment"))).to_be_visible()
    expect(page.get_by_test_id("slot-office")).to_contain_text("WIB")
    pick_first_free_time(page)
    page.get_by_role("button", name=words("Book appointment")).click()
    expect(page.get_by_test_id("case-status")).to_have_text(words("Biometrics appointment"))
    expect(page.get_by_test_id("appointment-biometrics")).to_contain_text("09:00 WIB")


# -- the sponsor's and the officers' steps ---------------------------------------------------


def sponsor_confirms(page: Any, words: Words, reference: str, applicant_name: str) -> None:
    """The sponsor finds the request on their page and confirms the guarantee."""
    requests = page.get_by_test_id("sponsor-requests")
    row = requests.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text(applicant_name)
    row.get_by_role("link", name=words("Confirm or decline")).click()
    expect(page.get_by_text(EMPLOYMENT_DATA["rptka_number"]).first).to_be_visible()
    page.get_by_label(words("We confirm: we sponsor this worker")).check()
    page.get_by_role("button", name=words("Send decision")).click()
    # After deciding, the case stays in the sponsor's list with the decision.
    decided = page.get_by_role("row").filter(has_text=reference).get_by_test_id("sponsor-decision")
    expect(decided).to_have_text(words.pattern("Confirmed on %(date)s"))


def open_from_inbox(page: Any, words: Words, reference: str, task_name: str) -> None:
    """Open a task of the case from the officer's inbox (``task_name`` in English: the diagram's name)."""
    name = words(task_name)
    page.get_by_role("link", name=words("Task inbox")).click()
    row = page.get_by_test_id("inbox").get_by_role("row").filter(has_text=reference).filter(has_text=name)
    row.get_by_role("link", name=words("Open")).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(name)))).to_be_visible()
    # Nobody works on it yet: the form is read-only until the officer starts working on it (claims it).
    expect(page.get_by_test_id("task-form-read-only")).to_be_visible()
    page.get_by_role("button", name=words("Start working on this")).click()
    expect(page.get_by_test_id("claimed-by-me")).to_have_text(words("You are working on this task"))


def check_previews(page: Any, words: Words) -> None:
    """Every document is shown beside the answers: a PDF as its pages rendered to pictures on the server (so
    any browser shows them), an image as it is; both zoom, an image turns a quarter."""
    documents = page.get_by_test_id("workspace-documents")
    expect(documents.locator("[data-viewer]")).to_have_count(len(DOCUMENTS))
    for image in documents.locator("img").all():
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0, f"the preview {image.get_attribute('alt')} is broken"
    page_picture = documents.get_by_test_id("pdf-page").first
    served = page.request.get(page_picture.get_attribute("src"))
    assert served.ok and served.headers["content-type"] == "image/png" and served.body().startswith(b"\x89PNG")
    viewer = documents.locator("[data-viewer]").filter(has=page.locator("[data-rotatable]")).first
    viewer.get_by_role("button", name=words("Zoom in")).click()
    expect(viewer.locator("[data-viewer-body]")).to_have_attribute("style", re.compile(r"width: 125%"))
    viewer.get_by_role("button", name=words("Rotate a quarter turn")).click()
    expect(viewer.locator("[data-rotatable]")).to_have_attribute("style", re.compile(r"rotate\(90deg\)"))


CORRECTION_REASON = "The contract says Senior Software Engineer."
CORRECTED_POSITION = "Senior Software Engineer"


def verifier_asks_for_a_correction(page: Any, words: Words, reference: str) -> None:
    """The verifier checks the previews and ticks the job title for correction: refused without a reason
    (the tick kept), then sent with one."""
    open_from_inbox(page, words, reference, "Verify documents")
    expect(page.get_by_text(APPLICANT_DATA["passport_number"]).first).to_be_visible()
    check_previews(page, words)
    job = page.get_by_test_id("answer-position")
    job.get_by_role("checkbox").check()
    page.get_by_label(words("Ask the applicant for corrections")).check()
    page.get_by_label(words("Reason"), exact=True).fill("One answer does not match the contract.")
    page.get_by_role("button", name=words("Record decision")).click()
    job = page.get_by_test_id("answer-position")
    expect(job.get_by_role("textbox")).to_have_attribute("aria-invalid", "true")
    expect(job.get_by_role("checkbox")).to_be_checked()
    job.get_by_role("textbox").fill(CORRECTION_REASON)
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


def applicant_corrects(page: Any, words: Words, reference: str) -> None:
    """The correction step opens only the job title, prefilled, with the officer's reason beside it."""
    open_case(page, words, reference)
    page.get_by_role("link", name=words("Continue")).click()
    expect(page.get_by_test_id("reason-position")).to_contain_text(CORRECTION_REASON)
    expect(page.get_by_label(words("Job title"))).to_have_value(EMPLOYMENT_DATA["position"])
    expect(page.get_by_label(words("Full name"))).to_have_count(0)  # shown read-only below, not open
    expect(page.get_by_test_id("read-only-answers")).to_be_visible()
    page.get_by_label(words("Job title")).fill(CORRECTED_POSITION)
    page.get_by_label(words("What you corrected")).fill("The job title as in the contract.")
    page.get_by_role("button", name=words("Send corrections")).click()
    expect(page.get_by_test_id("case-status")).to_have_text(words("Paid, in verification"))


def verifier_approves_the_corrections(page: Any, words: Words, reference: str) -> None:
    """The second round opens empty and shows what the applicant changed; the verifier approves without
    an interview."""
    open_from_inbox(page, words, reference, "Verify documents")
    change = page.get_by_test_id("previous-round").get_by_test_id("change-row")
    expect(change).to_have_count(1)
    expect(change).to_contain_text(EMPLOYMENT_DATA["position"])
    expect(change).to_contain_text(CORRECTED_POSITION)
    expect(page.get_by_label(words("Ask the applicant for corrections"))).not_to_be_checked()
    expect(page.get_by_test_id("answer-position").get_by_role("checkbox")).not_to_be_checked()
    approve_documents(page, words, reference)


def verifier_approves(page: Any, words: Words, reference: str) -> None:
    """The verifier approves the documents at the first round, without an interview."""
    open_from_inbox(page, words, reference, "Verify documents")
    expect(page.get_by_test_id("previous-round")).to_have_count(0)
    approve_documents(page, words, reference)


def approve_documents(page: Any, words: Words, reference: str) -> None:
    """On the open verification task: approve, no interview, and record it."""
    page.get_by_label(words("Approve: the documents are complete and correct")).check()
    expect(page.get_by_label(words("An interview is required"))).not_to_be_checked()
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


def supervisor_approves(page: Any, words: Words, reference: str) -> None:
    """The supervisor approves the verified application."""
    open_from_inbox(page, words, reference, "Approve application")
    page.get_by_label(words("Approve the application")).check()
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


def verifier_confirms_capture(page: Any, words: Words, reference: str) -> None:
    """The verifier records that photo and fingerprints were taken."""
    open_from_inbox(page, words, reference, "Capture biometrics")
    page.get_by_label(words("Came to the appointment"), exact=True).check()
    page.get_by_label(words("Photo and fingerprints have been captured")).check()
    page.get_by_role("button", name=words("Confirm capture")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


# -- the journey ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "id"])
def test_worker_kitas_from_registration_to_permit(
    browser_context: Any, live_server: LiveServer, mailbox: Mailbox, words: Words, tmp_path: Path
) -> None:
    """Register, apply, sponsor confirms, upload, pay, verify (a job title corrected in a field-level correction
    round), approve, biometrics: "Permit issued", the
    permit downloaded, its QR code decoded and its verification page checked; every page, e-mail and SMS
    of the applicant in the browser's language."""
    page = browser_context.new_page()
    sponsor = staff(live_server, "sponsor")

    applicant = register_applicant(page, words, live_server, mailbox)
    reference = start_worker_application(page, words)
    fill_applicant_data(page, words, applicant.email)
    fill_employment_data(page, words, sponsor.email)
    sign_out(page, words)

    # The sponsor is asked by e-mail, with a link to their guarantees. Their account has no language
    # of its own, so the e-mail is in the service's default language, Bahasa Indonesia (the pages they
    # read follow their browser).
    asked = Words("id")("{reference}: please confirm your guarantee").format(reference=reference)
    request = mailbox.wait_for(sponsor.email, asked)
    assert any("/sponsor/" in link for link in mailbox.links_in(request, live_server.url))
    sign_in(page, words, sponsor)
    sponsor_confirms(page, words, reference, applicant.name)
    sign_out(page, words)

    sign_in(page, words, applicant)
    upload_documents(page, words, reference, tmp_path)
    pay_in_sandbox_bank(page, words, reference)
    sign_out(page, words)
    # Money is worth a text message: the applicant's phone is told, in their language.
    sms = live_server.sms.wait_for(APPLICANT_DATA["phone"], f"{reference}: {words('Awaiting payment')}")
    assert f"/applications/{reference}" in sms, sms

    officers_work_in_an_office(live_server)
    sign_in(page, words, staff(live_server, "verifier"))
    verifier_asks_for_a_correction(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, applicant)
    applicant_corrects(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, staff(live_server, "verifier"))
    verifier_approves_the_corrections(page, words, reference)
    officer_publishes_times(page, words, "biometrics")
    sign_out(page, words)

    sign_in(page, words, staff(live_server, "supervisor"))
    supervisor_approves(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, applicant)
    book_biometrics(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, staff(live_server, "verifier"))
    verifier_confirms_capture(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, applicant)
    open_case(page, words, reference)
    expect(page.get_by_test_id("case-status")).to_have_text(words("Permit issued"))
    news = mailbox.wait_for(applicant.email, f"{reference}: {words('Permit issued')}")
    text = mailbox.text_of(news).replace("\r\n", "\n")  # SMTP's line ends
    assert f"/applications/{reference}" in text
    is_now = words.pattern("Your application %(reference)s is now: %(status)s.\n%(explanation)s")
    assert is_now.search(text) and words("Permit issued") in text, f"the e-mail is not in {words.language}:\n{text}"
    assert f"/applications/{reference}/permit.pdf" in text, "the e-mail does not link to the permit"
    issued = live_server.sms.wait_for(APPLICANT_DATA["phone"], f"{reference}: {words('Permit issued')}")
    assert f"/applications/{reference}" in issued, issued
    check_permit(
        page,
        browser_context,
        live_server.url,
        words,
        holder=APPLICANT_DATA["full_name"],
        index_code="E23",
        never_shown=(APPLICANT_DATA["passport_number"], APPLICANT_DATA["date_of_birth"]),
    )
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)
