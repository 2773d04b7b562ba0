"""A family KITAS (E31B, spouse of a permit holder) from registration to "Permit issued", in a real
browser against a live server, in English.

The family member the applicant joins has no account: the invitation e-mail's link is their sign-up,
and they confirm the guarantee from their own account. The checklist asks for their permit (E31B),
the applicant pays in the sandbox bank, the verifier approves the documents and holds the family
interview every family case has, the supervisor approves, biometrics are booked and captured.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.appointments import officer_publishes_times, officers_work_in_an_office, pick_first_free_time
from tests.e2e.permits import check_permit
from tests.e2e.starting import choose_province
from tests.e2e.test_worker_journey import (
    Person,
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
    verifier_confirms_capture,
)
from tests.e2e.words import Words
from tests.family_data import APPLICANT_DATA, MEMBER_DATA, PERMIT_HOLDER
from tests.uploads import jpeg_bytes, pdf_bytes, png_bytes

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, Mailbox

pytestmark = pytest.mark.e2e

# The files of the E31B checklist: (field label, file name, bytes); the last one is asked of E31B only.
DOCUMENTS = (
    ("Passport data page", "passport.pdf", pdf_bytes),
    ("Passport photo", "photo.jpg", jpeg_bytes),
    ("Marriage or birth certificate", "marriage.pdf", pdf_bytes),
    ("Family member's ID card (KTP)", "ktp.png", png_bytes),
    ("Family card (KK)", "kk.pdf", pdf_bytes),
    ("Family member's KITAS or KITAP", "kitas.pdf", pdf_bytes),
)


def start_family_application(page: Any, words: Words) -> str:
    """Start a family KITAS from the dashboard, choosing the relation at the start; returns the case's
    reference (it starts with the relation's index, E31B); the relation step shows it read-only."""
    page.get_by_role("link", name=words("My applications")).first.click()
    page.get_by_role("link", name=re.compile(r"\(E31A, E31B, E31C\)")).click()
    expect(page.get_by_role("group", name=words("Which permit do you apply for?"))).to_be_visible()
    page.locator("input[name=index_code][value=E31B]").check()
    choose_province(page, words)
    page.get_by_role("button", name=words("Start this application")).click()
    expect(page.get_by_role("heading", name=words("Your family relation"))).to_be_visible()
    breadcrumb = page.get_by_role("navigation", name=words("Breadcrumb"))
    reference = breadcrumb.get_by_role("link").nth(1).inner_text().strip()
    assert reference.startswith("E31B-") and f"/applications/{reference}/" in page.url, page.url
    expect(page.get_by_test_id("readonly-index_code")).to_have_text(words("Spouse of a KITAS or KITAP holder (E31B)"))
    page.get_by_role("button", name=words("Save and continue"), exact=True).click()
    expect(page.get_by_role("heading", name=words("Applicant details"))).to_be_visible()
    return reference


def fill_applicant_data(page: Any, words: Words, email: str) -> None:
    expiry = date.today().replace(day=1) + timedelta(days=5 * 365)
    page.get_by_label(words("Full name")).fill(APPLICANT_DATA["full_name"])
    page.get_by_label(words("Nationality")).select_option(APPLICANT_DATA["nationality"])
    page.get_by_label(words("Date of birth")).fill(APPLICANT_DATA["date_of_birth"])
    page.get_by_label(words("Passport number")).fill(APPLICANT_DATA["passport_number"])
    page.get_by_label(words("Passport expiry date")).fill(expiry.isoformat())
    page.get_by_label(words("E-mail address")).fill(email)
    page.get_by_label(words("Phone number")).fill(APPLICANT_DATA["phone"])
    page.get_by_role("button", name=words("Save and continue"), exact=True).click()
    expect(page.get_by_role("heading", name=words("Your family member in Indonesia"))).to_be_visible()


def fill_family_member(page: Any, words: Words, member_email: str) -> None:
    """The family member (a permit holder, as E31B asks), the marriage certificate and the stay."""
    page.get_by_label(words("Family member's full name")).fill(MEMBER_DATA["sponsor_name"])
    page.get_by_label(words("Family member's e-mail")).fill(member_email)
    page.get_by_label(words("A foreigner holding a KITAS or KITAP")).check()
    page.get_by_label(words("Family member's KITAS or KITAP number")).fill(PERMIT_HOLDER["sponsor_permit_number"])
    page.get_by_label(words("Marriage or birth certificate number")).fill(MEMBER_DATA["civil_document_number"])
    page.get_by_label(words("Date of the marriage or birth certificate")).fill(MEMBER_DATA["civil_document_date"])
    page.get_by_label(words("Address in Indonesia")).fill(MEMBER_DATA["address_in_indonesia"])
    page.get_by_label(words("1 year (12 months)")).check()
    page.get_by_role("button", name=words("Save and send to my family member")).click()
    page.get_by_role("button", name=words("Confirm and send")).click()
    expect(page.get_by_test_id("case-status")).to_have_text(words("Waiting for the sponsor"))


def family_member_signs_up_and_confirms(
    page: Any, words: Words, link: str, member: Person, reference: str, applicant_name: str
) -> None:
    """The invitation's link is the family member's sign-up; from their new account they confirm."""
    page.goto(link)
    expect(page.get_by_role("heading", name=words("Create your sponsor account"))).to_be_visible()
    expect(page.get_by_test_id("invitation-for")).to_contain_text(reference)
    page.get_by_label(words("Full name")).fill(member.name)
    page.get_by_label(words("Phone number with country code")).fill("+62 812 7777 8888")
    page.get_by_label(words("Password"), exact=True).fill(member.password)
    page.get_by_label(words("Password again")).fill(member.password)
    page.locator("#f-consent").check()
    page.get_by_role("button", name=words("Create my sponsor account")).click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(member.name)

    row = page.get_by_test_id("sponsor-requests").get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text(applicant_name)
    row.get_by_role("link", name=words("Confirm or decline")).click()
    expect(page.get_by_text(MEMBER_DATA["civil_document_number"]).first).to_be_visible()
    page.get_by_label(words("I confirm: I sponsor my family member")).check()
    page.get_by_role("button", name=words("Send decision")).click()
    decided = page.get_by_role("row").filter(has_text=reference).get_by_test_id("sponsor-decision")
    expect(decided).to_have_text(words.pattern("Confirmed on %(date)s"))


def upload_documents(page: Any, words: Words, reference: str, folder: Path) -> None:
    open_case(page, words, reference)
    page.get_by_role("link", name=words("Continue")).click()
    expect(page.get_by_role("heading", name=words("Upload documents"))).to_be_visible()
    for label, name, build in DOCUMENTS:
        path = folder / name
        path.write_bytes(build())
        page.get_by_label(words(label)).set_input_files(str(path))
    page.get_by_role("button", name=words("Save documents and continue to payment")).click()
    page.get_by_role("button", name=words("Confirm and send")).click()


def verifier_approves_documents(page: Any, words: Words, reference: str) -> None:
    open_from_inbox(page, words, reference, "Verify documents")
    expect(page.get_by_text(APPLICANT_DATA["passport_number"]).first).to_be_visible()
    expect(page.get_by_test_id("workspace-documents").locator("[data-viewer]")).to_have_count(len(DOCUMENTS))
    page.get_by_label(words("Approve: the documents are complete and correct")).check()
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


def verifier_holds_the_interview(page: Any, words: Words, reference: str) -> None:
    """Every family case has an interview: scheduled on a coming working day, then recorded as passed."""
    officer_publishes_times(page, words, "interview")
    open_from_inbox(page, words, reference, "Schedule the family interview")
    # The case has no office of its own yet: the officer is told whose times are shown.
    expect(page.get_by_test_id("slot-office")).to_contain_text("WIB")
    pick_first_free_time(page)
    page.get_by_role("button", name=words("Schedule interview")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()
    open_from_inbox(page, words, reference, "Conduct the family interview")
    page.get_by_label(words("They came to the interview"), exact=True).check()
    page.get_by_label(words("Passed: the relation is genuine")).check()
    page.get_by_role("button", name=words("Record interview")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


def test_family_kitas_from_registration_to_permit(
    browser_context: Any, live_server: LiveServer, mailbox: Mailbox, words: Words, tmp_path: Path
) -> None:
    page = browser_context.new_page()
    applicant = register_applicant(page, words, live_server, mailbox)
    reference = start_family_application(page, words)
    fill_applicant_data(page, words, applicant.email)
    member = Person(f"budi.{secrets.token_hex(3)}@family.example", "Sate-Ayam-" + secrets.token_hex(4), "Budi Santoso")
    fill_family_member(page, words, member.email)
    page.goto(f"/applications/{reference}")
    expect(page.get_by_test_id("invitation-sent")).to_contain_text(member.email)
    sign_out(page, words)

    invitation = mailbox.wait_for(member.email, reference)
    links = [link for link in mailbox.links_in(invitation, live_server.url) if "/auth/invitation/" in link]
    assert links, f"no invitation link in the e-mail:\n{mailbox.text_of(invitation)}"
    family_member_signs_up_and_confirms(page, words, links[0], member, reference, applicant.name)
    sign_out(page, words)

    sign_in(page, words, applicant)
    upload_documents(page, words, reference, tmp_path)
    pay_in_sandbox_bank(page, words, reference)
    sign_out(page, words)

    officers_work_in_an_office(live_server)
    sign_in(page, words, staff(live_server, "verifier"))
    verifier_approves_documents(page, words, reference)
    verifier_holds_the_interview(page, words, reference)
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
    assert f"/applications/{reference}" in mailbox.text_of(news)
    assert f"/applications/{reference}/permit.pdf" in mailbox.text_of(news), "the e-mail does not link to the permit"
    check_permit(
        page,
        browser_context,
        live_server.url,
        words,
        holder=APPLICANT_DATA["full_name"],
        index_code="E31B",
        never_shown=(APPLICANT_DATA["passport_number"], APPLICANT_DATA["date_of_birth"]),
    )
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)
