"""Issue 11 end to end in a real browser: the officers' console around one family KITAS (E31B).

The applicant starts the case in a province (its office is the domicile rule's), fills it, pays in the
sandbox bank. An officer of ANOTHER office neither finds it in her inbox nor opens its page (not found).
The verifier of the case's office finds it in her inbox, starts working on it, ticks one field and one
document with a reason each and asks for corrections; the applicant's correction step opens exactly those
two with the reasons; she changes the field and replaces the document. The next round opens with no
decision and shows both changes (before, after); the verifier approves and holds the family interview in a
time officers published. The supervisor (not the verifier: four eyes) has the approval form open to her and
sends the case back once with a reason; the verifier reads the reason, verifies again and the family
diagram schedules the interview again (booked and held again). The supervisor approves, biometrics are
booked in a published time and captured, and the permit is issued and checked as every journey's is.
It runs in English and in Bahasa Indonesia (the browser's language; officers read Indonesian by default).

That the verifier of a case may not approve it is proved at the test-client level (tests/web, four eyes):
the live server has one supervisor, who never verified the case.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.appointments import officer_publishes_times
from tests.e2e.permits import check_permit
from tests.e2e.test_family_journey import (
    family_member_signs_up_and_confirms,
    fill_applicant_data,
    fill_family_member,
    start_family_application,
    upload_documents,
    verifier_holds_the_interview,
)
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
from tests.family_data import APPLICANT_DATA, MEMBER_DATA
from tests.uploads import pdf_bytes

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, Mailbox

pytestmark = pytest.mark.e2e

# The office of another province than the journey's (Bali's: Denpasar), and its officer.
OTHER_OFFICE = "DPS"
ADDRESS_REASON = "The address lacks the house number and the district."
NEW_ADDRESS = "Jl. Kemang Raya No. 12, Mampang Prapatan, Jakarta Selatan"
CERTIFICATE_REASON = "The certificate scan has no civil registry stamp."
NEW_CERTIFICATE = "marriage-stamped.pdf"
SEND_BACK_REASON = "Compare the marriage date with the civil registry's record again."


def officer_of_another_office(server: LiveServer) -> Person:
    """A verifier who works in Denpasar only, set up as ``kitas demo`` sets up officers (with an app)."""
    import pyotp

    from kitas.extensions import db
    from kitas.services.accounts import create_account
    from kitas.services.accounts.second_factor import enrol_with_secret
    from kitas.services.offices.staff import place_officer

    person = Person(
        f"dewi.{secrets.token_hex(3)}@imigrasi.example", server.staff_password, "Dewi Denpasar", pyotp.random_base32()
    )
    with server.app.app_context():
        user = create_account(person.email, person.name, person.password, ["verifier"], verified=True)
        assert place_officer(user, [OTHER_OFFICE], actor="e2e") == [OTHER_OFFICE]
        assert person.totp_secret
        enrol_with_secret(user, person.totp_secret)
        db.session.remove()
    return person


def another_office_cannot_see_the_case(page: Any, words: Words, reference: str, officer: Person) -> None:
    """Her inbox has no task of the case, and its officer page is the not-found page (as a case that
    does not exist: nothing says it is there)."""
    sign_in(page, words, officer)
    page.get_by_role("link", name=words("Task inbox")).click()
    expect(page.get_by_test_id("inbox").get_by_role("row").filter(has_text=reference)).to_have_count(0)
    response = page.goto(f"/officer/cases/{reference}")
    assert response is not None and response.status == 404, response and response.status
    expect(page.get_by_role("heading", name=words("Not found"))).to_be_visible()
    expect(page.get_by_test_id("error-message")).to_be_visible()
    expect(page.get_by_text(APPLICANT_DATA["full_name"])).to_have_count(0)
    expect(page.get_by_text(MEMBER_DATA["address_in_indonesia"])).to_have_count(0)
    sign_out(page, words)


def verifier_asks_for_a_field_and_a_document(page: Any, words: Words, reference: str) -> None:
    """In the workspace: the address ticked and the marriage certificate ticked, a reason each."""
    open_from_inbox(page, words, reference, "Verify documents")
    expect(page.get_by_text(MEMBER_DATA["address_in_indonesia"]).first).to_be_visible()
    address = page.get_by_test_id("fix-field-address_in_indonesia")
    address.get_by_role("checkbox").check()
    address.get_by_role("textbox").fill(ADDRESS_REASON)
    certificate = page.get_by_test_id("document-civil_certificate").get_by_test_id("fix-document-civil_certificate")
    certificate.get_by_role("checkbox").check()
    certificate.get_by_role("textbox").fill(CERTIFICATE_REASON)
    page.get_by_label(words("Ask the applicant for corrections")).check()
    page.get_by_label(words("Reason"), exact=True).fill("Two things need fixing.")
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


def applicant_corrects_the_two(page: Any, words: Words, reference: str, folder: Path) -> None:
    """Her correction step opens exactly the ticked field and document, each with the officer's reason."""
    open_case(page, words, reference)
    page.get_by_role("link", name=words("Continue")).click()
    reasons = page.locator("[data-testid^='reason-']")
    expect(reasons).to_have_count(2)
    expect(page.get_by_test_id("reason-address_in_indonesia")).to_contain_text(ADDRESS_REASON)
    expect(page.get_by_test_id("reason-civil_certificate")).to_contain_text(CERTIFICATE_REASON)
    address = page.get_by_label(words("Address in Indonesia"))
    expect(address).to_have_value(MEMBER_DATA["address_in_indonesia"])
    for other in ("Full name", "Passport data page", "Family card (KK)"):  # shown read-only, not open
        expect(page.get_by_label(words(other), exact=True)).to_have_count(0)
    expect(page.get_by_test_id("read-only-answers")).to_be_visible()
    address.fill(NEW_ADDRESS)
    path = folder / NEW_CERTIFICATE
    path.write_bytes(pdf_bytes())
    page.get_by_label(words("Marriage or birth certificate")).set_input_files(str(path))
    page.get_by_label(words("What you corrected")).fill("The full address, and a stamped scan.")
    page.get_by_role("button", name=words("Send corrections")).click()
    expect(page.get_by_test_id("case-status")).to_have_text(words("Paid, in verification"))


def verifier_sees_the_changes_and_approves(page: Any, words: Words, reference: str) -> None:
    """The next round has no decision and no ticks, and shows old -> new for both; she approves."""
    open_from_inbox(page, words, reference, "Verify documents")
    previous = page.get_by_test_id("previous-round")
    expect(previous).to_contain_text(ADDRESS_REASON)
    expect(previous).to_contain_text(CERTIFICATE_REASON)
    changes = previous.get_by_test_id("change-row")
    expect(changes).to_have_count(2)
    address = changes.filter(has_text=words("Address in Indonesia"))
    expect(address.locator("td").nth(0)).to_have_text(MEMBER_DATA["address_in_indonesia"])
    expect(address.locator("td").nth(1)).to_have_text(NEW_ADDRESS)
    certificate = changes.filter(has_text=words("Marriage or birth certificate"))
    expect(certificate.locator("td").nth(0)).to_contain_text("marriage.pdf")
    expect(certificate.locator("td").nth(1)).to_contain_text(NEW_CERTIFICATE)
    for decision in ("Ask the applicant for corrections", "Approve: the documents are complete and correct"):
        expect(page.get_by_label(words(decision))).not_to_be_checked()
    expect(page.get_by_test_id("fix-field-address_in_indonesia").get_by_role("checkbox")).not_to_be_checked()
    expect(page.get_by_test_id("fix-document-civil_certificate").get_by_role("checkbox")).not_to_be_checked()
    expect(page.get_by_test_id("sent-back")).to_have_count(0)
    page.get_by_label(words("Approve: the documents are complete and correct")).check()
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


def supervisor_sends_back(page: Any, words: Words, reference: str) -> None:
    """The supervisor never verified the case: no four-eyes notice, her form is open; she sends it back."""
    open_from_inbox(page, words, reference, "Approve application")
    expect(page.get_by_test_id("four-eyes")).to_have_count(0)
    send_back = page.get_by_label(words("Send the case back to verification"))
    expect(send_back).to_be_enabled()
    expect(page.get_by_label(words("Approve the application"))).to_be_enabled()
    send_back.check()
    page.get_by_label(words("What the verifier must look at again")).fill(SEND_BACK_REASON)
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()
    # Her own lane has nothing of the case left: the task went back to the verifiers.
    page.get_by_role("link", name=words("Task inbox")).click()
    expect(page.get_by_test_id("inbox").get_by_role("row").filter(has_text=reference)).to_have_count(0)


def verifier_verifies_again(page: Any, words: Words, reference: str) -> None:
    """The round the case was sent back to names the supervisor's reason; the verifier approves again."""
    open_from_inbox(page, words, reference, "Verify documents")
    sent_back = page.get_by_test_id("sent-back")
    expect(sent_back).to_contain_text(words("Sent back by the supervisor:"))
    expect(sent_back).to_contain_text(SEND_BACK_REASON)
    # Its line breaks are kept (a style the page's security policy allows: a class, not an inline style).
    expect(sent_back.locator("span")).to_have_css("white-space", "pre-wrap")
    # She decides afresh: her approval of the round before is not chosen for her.
    for decision in ("Ask the applicant for corrections", "Approve: the documents are complete and correct"):
        expect(page.get_by_label(words(decision))).not_to_be_checked()
    expect(page.get_by_label(words("Reason"), exact=True)).to_have_value("")
    page.get_by_label(words("Approve: the documents are complete and correct")).check()
    page.get_by_role("button", name=words("Record decision")).click()
    expect(page.get_by_text(words("Recorded in case %(reference)s.", reference=reference))).to_be_visible()


@pytest.mark.parametrize("language", ["en", "id"])
def test_officer_console_from_payment_to_permit(
    browser_context: Any, live_server: LiveServer, mailbox: Mailbox, words: Words, tmp_path: Path
) -> None:
    page = browser_context.new_page()
    applicant = register_applicant(page, words, live_server, mailbox)
    reference = start_family_application(page, words)
    fill_applicant_data(page, words, applicant.email)
    member = Person(f"budi.{secrets.token_hex(3)}@family.example", "Sate-Ayam-" + secrets.token_hex(4), "Budi Santoso")
    fill_family_member(page, words, member.email)
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

    another_office_cannot_see_the_case(page, words, reference, officer_of_another_office(live_server))

    verifier = staff(live_server, "verifier")
    sign_in(page, words, verifier)
    verifier_asks_for_a_field_and_a_document(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, applicant)
    applicant_corrects_the_two(page, words, reference, tmp_path)
    sign_out(page, words)

    sign_in(page, words, verifier)
    verifier_sees_the_changes_and_approves(page, words, reference)
    verifier_holds_the_interview(page, words, reference)
    sign_out(page, words)

    supervisor = staff(live_server, "supervisor")
    sign_in(page, words, supervisor)
    supervisor_sends_back(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, verifier)
    verifier_verifies_again(page, words, reference)
    verifier_holds_the_interview(page, words, reference)
    officer_publishes_times(page, words, "biometrics")
    sign_out(page, words)

    sign_in(page, words, supervisor)
    supervisor_approves(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, applicant)
    book_biometrics(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, verifier)
    verifier_confirms_capture(page, words, reference)
    sign_out(page, words)

    sign_in(page, words, applicant)
    open_case(page, words, reference)
    expect(page.get_by_test_id("case-status")).to_have_text(words("Permit issued"))
    expect(page.get_by_text(re.compile(re.escape(SEND_BACK_REASON)))).to_have_count(0)  # officers' words only
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
