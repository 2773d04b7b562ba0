"""The investor and student KITAS from registration to "Permit issued", in a real browser against a live
server: the student's journey in Bahasa Indonesia (the sponsor confirms from their own account), the
investor's in English (the verifier checks the shareholding first).

The steps the types share with the worker (registration, payment in the sandbox bank, the officers' review,
approval and biometrics) are the worker journey's own helpers; the types' own forms are filled here. Every
text goes through ``words`` (the service's translations).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from forms.rules import add_months
from tests.e2e.appointments import officer_publishes_times, officers_work_in_an_office
from tests.e2e.permits import check_permit
from tests.e2e.starting import choose_province
from tests.e2e.test_worker_journey import (
    book_biometrics,
    expect,
    open_case,
    open_from_inbox,
    pay_in_sandbox_bank,
    register_applicant,
    sign_in,
    sign_out,
    staff,
    supervisor_approves,
    verifier_approves,
    verifier_confirms_capture,
)
from tests.e2e.words import Words
from tests.types_data import INVESTMENT, STUDY
from tests.uploads import jpeg_bytes, pdf_bytes, photo_bytes, png_bytes
from tests.worker_data import APPLICANT_DATA

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, Mailbox

pytestmark = pytest.mark.e2e

INVESTOR_DOCUMENTS = (
    ("Passport data page", "passport.pdf", pdf_bytes),
    ("Passport photo", "photo.jpg", jpeg_bytes),
    ("Deed of establishment", "deed.pdf", pdf_bytes),
    ("Company business ID (NIB)", "nib.pdf", pdf_bytes),
    ("Proof of shareholding", "shares.png", png_bytes),
    ("Statement letter", "statement.pdf", pdf_bytes),
)
STUDENT_DOCUMENTS = (
    ("Passport data page", "passport.pdf", pdf_bytes),
    ("Passport photo", "photo.jpg", photo_bytes),
    ("Acceptance letter", "acceptance.pdf", pdf_bytes),
    ("Study recommendation", "recommendation.pdf", pdf_bytes),
    ("Proof of funds", "funds.png", png_bytes),
    ("Health insurance", "insurance.pdf", pdf_bytes),
)


def start_application(page: Any, words: Words, index_code: str, first_heading: str) -> str:
    """Start an application of the type whose button names ``index_code``; returns the case's reference."""
    page.get_by_role("link", name=words("My applications")).first.click()
    page.get_by_role("link", name=re.compile(rf"\(([A-Z0-9]+, )*{index_code}(, [A-Z0-9]+)*\)")).click()
    several = page.locator(f"input[name=index_code][value={index_code}]")
    if several.count():  # a type of several index codes: which one is chosen at the start
        several.check()
    choose_province(page, words)
    page.get_by_role("button", name=words("Start this application")).click()
    expect(page.get_by_role("heading", name=words(first_heading))).to_be_visible()
    breadcrumb = page.get_by_role("navigation", name=words("Breadcrumb"))
    reference = breadcrumb.get_by_role("link").nth(1).inner_text().strip()
    assert reference.startswith(f"{index_code}-") and f"/applications/{reference}/" in page.url, page.url
    return reference


def fill_applicant_data(page: Any, words: Words, email: str, next_heading: str) -> None:
    """The applicant data (the field names every type shares), the passport valid long past any stay."""
    expiry = date.today().replace(day=1) + timedelta(days=5 * 365)
    page.get_by_label(words("Full name")).fill(APPLICANT_DATA["full_name"])
    page.get_by_label(words("Nationality")).select_option(APPLICANT_DATA["nationality"])
    page.get_by_label(words("Date of birth")).fill(APPLICANT_DATA["date_of_birth"])
    page.get_by_label(words("Passport number")).fill(APPLICANT_DATA["passport_number"])
    page.get_by_label(words("Passport expiry date")).fill(expiry.isoformat())
    page.get_by_label(words("E-mail address")).fill(email)
    page.get_by_label(words("Phone number")).fill(APPLICANT_DATA["phone"])
    page.get_by_role("button", name=words("Save and continue"), exact=True).click()
    expect(page.get_by_role("heading", name=words(next_heading))).to_be_visible()


def upload(page: Any, words: Words, reference: str, folder: Path, documents: Any, **numbers: str) -> None:
    """The document checklist: real files written to disk and uploaded (and the numbers it asks), then
    "check your answers" and on to payment."""
    open_case(page, words, reference)
    page.get_by_role("link", name=words("Continue")).click()
    expect(page.get_by_role("heading", name=words("Upload documents"))).to_be_visible()
    for label, name, build in documents:
        path = folder / name
        path.write_bytes(build())
        page.get_by_label(words(label)).set_input_files(str(path))
    for label, value in numbers.items():
        page.get_by_label(words(label)).fill(value)
    page.get_by_role("button", name=words("Save documents and continue to payment")).click()
    page.get_by_role("button", name=words("Confirm and send")).click()


def officers_until_biometrics(page: Any, words: Words, server: LiveServer, reference: str) -> None:
    """The shared review and approval by the verifier and the supervisor."""
    officers_work_in_an_office(server)
    sign_in(page, words, staff(server, "verifier"))
    verifier_approves(page, words, reference)
    officer_publishes_times(page, words, "biometrics")
    sign_out(page, words)
    sign_in(page, words, staff(server, "supervisor"))
    supervisor_approves(page, words, reference)
    sign_out(page, words)


def biometrics_until_permit(
    page: Any, context: Any, words: Words, server: LiveServer, applicant: Any, reference: str, index_code: str
) -> None:
    """The applicant books the appointment, the verifier captures, the status says "Permit issued", and
    the permit downloaded from the status page carries a QR code whose check says valid."""
    sign_in(page, words, applicant)
    book_biometrics(page, words, reference)
    sign_out(page, words)
    sign_in(page, words, staff(server, "verifier"))
    verifier_confirms_capture(page, words, reference)
    sign_out(page, words)
    sign_in(page, words, applicant)
    open_case(page, words, reference)
    expect(page.get_by_test_id("case-status")).to_have_text(words("Permit issued"))
    check_permit(
        page,
        context,
        server.url,
        words,
        holder=APPLICANT_DATA["full_name"],
        index_code=index_code,
        never_shown=(APPLICANT_DATA["passport_number"], APPLICANT_DATA["date_of_birth"]),
    )


# -- the student, in Bahasa Indonesia ---------------------------------------------------------------


def fill_study_data(page: Any, words: Words, sponsor_email: str) -> tuple[date, date]:
    """The studies (a university), a stay of four years that covers them, the university as sponsor."""
    start = date.today() + timedelta(days=60)
    end = add_months(start, 46)
    expect(page.get_by_test_id("readonly-index_code")).to_have_text(words("University (E30B)"))
    page.get_by_label(words("School, university or course provider")).fill(STUDY["institution_name"])
    page.get_by_label(words("Programme or course")).fill(STUDY["programme"])
    page.get_by_label(words("Studies start")).fill(start.isoformat())
    page.get_by_label(words("Studies end")).fill(end.isoformat())
    page.get_by_label(words("4 years (48 months)")).check()
    page.get_by_label(words("The school or university")).check()
    page.get_by_label(words("Sponsor's name")).fill(STUDY["sponsor_name"])
    page.get_by_label(words("Sponsor's account e-mail")).fill(sponsor_email)
    page.get_by_role("button", name=words("Save and send to sponsor")).click()
    page.get_by_role("button", name=words("Confirm and send")).click()
    expect(page.get_by_test_id("case-status")).to_have_text(words("Waiting for the sponsor"))
    return start, end


def sponsor_confirms_student(page: Any, words: Words, reference: str, applicant_name: str) -> None:
    """The sponsor finds the request on their page, sees the studies and confirms the guarantee."""
    row = page.get_by_test_id("sponsor-requests").get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text(applicant_name)
    row.get_by_role("link", name=words("Confirm or decline")).click()
    expect(page.get_by_text(STUDY["programme"]).first).to_be_visible()
    page.get_by_label(words("I confirm: I sponsor this student")).check()
    page.get_by_role("button", name=words("Send decision")).click()
    decided = page.get_by_role("row").filter(has_text=reference).get_by_test_id("sponsor-decision")
    expect(decided).to_have_text(words.pattern("Confirmed on %(date)s"))


@pytest.mark.parametrize("language", ["id"])
def test_student_kitas_in_indonesian_from_registration_to_permit(
    browser_context: Any, live_server: LiveServer, mailbox: Mailbox, words: Words, tmp_path: Path
) -> None:
    """A university student: registers, applies (E30B, four years), the university confirms from its
    account, documents (a 100-200 kB photo, the funds), payment, review, approval, biometrics: every page
    in Indonesian."""
    page = browser_context.new_page()
    sponsor = staff(live_server, "sponsor")
    applicant = register_applicant(page, words, live_server, mailbox)
    reference = start_application(page, words, "E30B", "Applicant details")
    fill_applicant_data(page, words, applicant.email, "Study details")
    fill_study_data(page, words, sponsor.email)
    sign_out(page, words)

    asked = Words("id")("{reference}: please confirm your guarantee").format(reference=reference)
    mailbox.wait_for(sponsor.email, asked)
    sign_in(page, words, sponsor)
    sponsor_confirms_student(page, words, reference, applicant.name)
    sign_out(page, words)

    sign_in(page, words, applicant)
    upload(page, words, reference, tmp_path, STUDENT_DOCUMENTS, **{"Funds shown (US dollars)": "2500"})
    pay_in_sandbox_bank(page, words, reference)
    sign_out(page, words)

    officers_until_biometrics(page, words, live_server, reference)
    biometrics_until_permit(page, browser_context, words, live_server, applicant, reference, "E30B")
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)


# -- the investor, in English -----------------------------------------------------------------------


def fill_investment_data(page: Any, words: Words) -> None:
    """The company, the shares (above the minimum) and a stay of two years."""
    page.get_by_label(words("Company name")).fill(INVESTMENT["company_name"])
    page.get_by_label(words("Company business ID number (NIB)")).fill(INVESTMENT["nib_number"])
    page.get_by_label(words("Deed of establishment number")).fill(INVESTMENT["deed_number"])
    page.get_by_label(words("Value of your shares (rupiah)")).fill(str(INVESTMENT["share_value_idr"]))
    page.get_by_label(words("Your share of the company (%)")).fill(str(INVESTMENT["share_percentage"]))
    page.get_by_label(words("2 years (24 months)")).check()
    page.get_by_role("button", name=words("Save and continue"), exact=True).click()
    expect(page.get_by_role("heading", name=words("Upload documents"))).to_be_visible()


def upload_investor_documents(page: Any, words: Words, folder: Path) -> None:
    """The checklist, straight after the investment data (no sponsor), then check the answers and pay."""
    for label, name, build in INVESTOR_DOCUMENTS:
        path = folder / name
        path.write_bytes(build())
        page.get_by_label(words(label)).set_input_files(str(path))
    page.get_by_role("button", name=words("Save documents and continue to payment")).click()
    page.get_by_role("button", name=words("Confirm and send")).click()


def verifier_checks_shareholding(page: Any, words: Words, reference: str) -> None:
    """The investor's own step: the verifier compares the proof with the stated shares, before the review."""
    open_from_inbox(page, words, reference, "Check the shareholding")
    expect(page.get_by_text(INVESTMENT["company_name"]).first).to_be_visible()
    page.get_by_label(words("The proof matches: the shares are worth the stated amount")).check()
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


@pytest.mark.parametrize("language", ["en"])
def test_investor_kitas_in_english_from_registration_to_permit(
    browser_context: Any, live_server: LiveServer, mailbox: Mailbox, words: Words, tmp_path: Path
) -> None:
    """A shareholder: registers, applies (E28A, no sponsor), documents, payment, the shareholding check,
    review, approval, biometrics."""
    page = browser_context.new_page()
    applicant = register_applicant(page, words, live_server, mailbox)
    reference = start_application(page, words, "E28A", "Applicant details")
    fill_applicant_data(page, words, applicant.email, "Investment details")
    fill_investment_data(page, words)
    upload_investor_documents(page, words, tmp_path)
    pay_in_sandbox_bank(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, staff(live_server, "verifier"))
    verifier_checks_shareholding(page, words, reference)
    sign_out(page, words)
    officers_until_biometrics(page, words, live_server, reference)
    biometrics_until_permit(page, browser_context, words, live_server, applicant, reference, "E28A")
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)
