"""The profile and the personal-data rights in a real browser against the live server.

A registered applicant with one open case changes their phone number (a wrong one is refused next to
its field, with what they typed kept), then their e-mail address (the link read from the e-mail at
the new address, the old address told, signing in works with the new address only), downloads their
data as JSON, and asks to delete the account: refused while the case is open, allowed once it is
closed. The case is closed through the services, in the live server's application context, by the
shortest path the diagram has to an end: the sponsor declines. Every text goes through ``words``.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_worker_journey import (
    Person,
    expect,
    register_applicant,
    sign_in,
    sign_out,
    start_worker_application,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, Mailbox
    from tests.e2e.words import Words

pytestmark = pytest.mark.e2e

WRONG_PHONE = "+62 0812 3456 7890"  # Indonesia's trunk 0 has no place after +62
RIGHT_PHONE = "+62 813 9876 5432"
LOGIN_ERROR = "The e-mail address or password is not correct. Check both and try again."


def open_profile(page: Any, words: Words) -> None:
    """The profile page, reached from the name in the navigation bar."""
    page.get_by_test_id("signed-in-as").click()
    expect(page.get_by_role("heading", name=words("My profile"), exact=True)).to_be_visible()


def sign_in_refused(page: Any, words: Words, email: str, password: str) -> None:
    """Try to sign in and see the one answer for every wrong address or password."""
    page.get_by_role("link", name=words("Sign in")).first.click()
    page.get_by_label(words("E-mail address")).fill(email)
    page.get_by_label(words("Password"), exact=True).fill(password)
    page.get_by_role("button", name=words("Sign in")).click()
    expect(page.get_by_test_id("login-error")).to_have_text(words(LOGIN_ERROR))
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)


def change_phone(page: Any, words: Words, server: LiveServer, email: str) -> None:
    """A wrong number is refused next to its field and kept as typed; a right one is stored."""
    open_profile(page, words)
    details = page.get_by_test_id("details-form")
    phone = details.get_by_label(words("Phone number with country code"))
    phone.fill(WRONG_PHONE)
    details.get_by_role("button", name=words("Save my details")).click()
    expect(page.get_by_test_id("form-errors-details")).to_contain_text(
        words("Nothing was saved. Each problem is explained next to its field.")
    )
    problem = words(
        "Leave out the %(prefix)s after +%(code)s: write +%(code)s %(right)s..., not +%(code)s %(wrong)s....",
        prefix="0",
        code=62,
        right="812",
        wrong="0812",
    )
    expect(page.get_by_test_id("error-phone")).to_have_text(problem)
    phone = page.get_by_test_id("details-form").get_by_label(words("Phone number with country code"))
    expect(phone).to_have_value(WRONG_PHONE)
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_attribute("aria-describedby", re.compile(r"\bphone-error\b"))

    phone.fill(RIGHT_PHONE)
    page.get_by_test_id("details-form").get_by_role("button", name=words("Save my details")).click()
    expect(page.get_by_text(words("Your profile is saved."))).to_be_visible()
    shown = page.get_by_test_id("details-form").get_by_label(words("Phone number with country code")).input_value()
    assert re.sub(r"\D", "", shown) == re.sub(r"\D", "", RIGHT_PHONE), shown
    assert account_of(server, email).phone == "+6281398765432"


def change_email(page: Any, words: Words, mailbox: Mailbox, server: LiveServer, person: Person) -> Person:
    """Ask for a new address, open the link sent there; the old address is told. Returns the person anew."""
    new = Person(f"ana.baru.{secrets.token_hex(3)}@example.org", person.password, person.name)
    open_profile(page, words)
    form = page.get_by_test_id("email-form")
    form.get_by_label(words("New e-mail address")).fill(new.email)
    form.get_by_label(words("Current password")).fill(person.password)
    form.get_by_role("button", name=words("Change my e-mail address")).click()
    expect(page.get_by_test_id("pending-email")).to_contain_text(new.email)
    # Nothing changes until the link is opened: the profile still shows the current address.
    expect(page.get_by_text(words("Your address is %(email)s.", email=person.email))).to_be_visible()

    confirm = mailbox.wait_for(new.email, words("Confirm your new e-mail address for KITAS Online"))
    links = [link for link in mailbox.links_in(confirm, server.url) if "/auth/profile/email/" in link]
    assert links, f"no confirmation link in the e-mail:\n{mailbox.text_of(confirm)}"
    page.goto(links[0])
    expect(page.get_by_test_id("email-changed")).to_contain_text(new.email)

    told = mailbox.wait_for(person.email, words("Your KITAS Online e-mail address was changed"))
    assert new.email in mailbox.text_of(told), mailbox.text_of(told)

    sign_out(page, words)
    sign_in_refused(page, words, person.email, person.password)
    sign_in(page, words, new)
    return new


def download_my_data(page: Any, words: Words, folder: Path, email: str, reference: str) -> None:
    """The export is a JSON download holding the account and its case."""
    open_profile(page, words)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=words("Download my data (JSON)")).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json"), download.suggested_filename
    path = folder / download.suggested_filename
    download.save_as(str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["account"]["email"] == email
    assert data["account"]["phone"] == "+6281398765432"
    assert [case["reference"] for case in data["applications"]] == [reference]


def account_of(server: LiveServer, email: str) -> Any:
    """The live server's account row for ``email`` (None when there is none)."""
    from sqlalchemy import select

    from kitas.extensions import db
    from kitas.models import User

    with server.app.app_context():
        try:
            user = db.session.scalars(select(User).where(User.email == email)).first()
            if user is not None:
                db.session.expunge(user)
            return user
        finally:
            db.session.remove()


def close_case(server: LiveServer, reference: str, applicant_email: str) -> None:
    """Take the draft case to an end through the services: the applicant's two forms, then the sponsor
    declines (the shortest path of the diagram to a closed case)."""
    from sqlalchemy import select

    from kitas.extensions import db
    from kitas.models import Application, HumanTask, User
    from kitas.services import cases
    from tests.worker_data import form_data

    sponsor_email = server.staff["sponsor"][0]
    expiry = (date.today().replace(day=1) + timedelta(days=5 * 365)).isoformat()
    steps = (
        ("applicant_data", applicant_email, {"email": applicant_email, "passport_expiry": expiry}),
        ("employment_data", applicant_email, {"sponsor_email": sponsor_email}),
        (
            "sponsor_confirmation",
            sponsor_email,
            {"sponsor_decision": "decline", "sponsor_decline_reason": "We do not employ this person."},
        ),
    )
    with server.app.app_context():
        try:
            case_id = db.session.scalars(select(Application.id).where(Application.reference == reference)).one()
            for element_id, email, data in steps:
                user = db.session.scalars(select(User).where(User.email == email)).one()
                task = db.session.scalars(
                    select(HumanTask).where(HumanTask.application_id == case_id, HumanTask.element_id == element_id)
                ).one()
                cases.complete_task(case_id, task.task_id, user, form_data(element_id, **data))
            db.session.rollback()
            closed = db.session.get(Application, case_id)
            assert closed is not None and closed.closed_at is not None, f"{reference} is still open"
        finally:
            db.session.remove()


def delete_account(page: Any, words: Words, server: LiveServer, person: Person, reference: str) -> None:
    """Refused while the case is open (the reason shown, no form), allowed once it is closed."""
    open_profile(page, words)
    page.get_by_role("link", name=words("Withdraw my consent and delete my account")).click()
    expect(page.get_by_role("heading", name=words("Withdraw my consent and delete my account"))).to_be_visible()
    refused = page.get_by_test_id("erasure-refused")
    expect(refused).to_contain_text(
        words(
            "Your account cannot be deleted while an application is still open: %(references)s.",
            references=reference,
        )
    )
    why = (
        "Its processing rests on the application and on immigration law. Wait until it is decided, or ask the "
        "immigration office to withdraw it; then you can delete your account here."
    )
    expect(refused).to_contain_text(words(why))
    expect(page.get_by_test_id("delete-form")).to_have_count(0)

    close_case(server, reference, person.email)
    page.reload()
    expect(page.get_by_test_id("erasure-refused")).to_have_count(0)
    form = page.get_by_test_id("delete-form")
    form.get_by_label(words("Current password")).fill(person.password)
    form.get_by_role("button", name=words("Delete my account now")).click()
    expect(page.get_by_test_id("account-deleted")).to_have_text(
        words(
            "Your consent is withdrawn and your personal data is erased. Your closed applications are kept "
            "anonymised. You are signed out."
        )
    )
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "id"])
def test_profile_phone_email_export_and_deletion(
    browser_context: Any, live_server: LiveServer, mailbox: Mailbox, words: Words, tmp_path: Path
) -> None:
    """Phone and e-mail changed, the data downloaded, the account deleted once its case is closed."""
    page = browser_context.new_page()
    applicant = register_applicant(page, words, live_server, mailbox)
    reference = start_worker_application(page, words)

    change_phone(page, words, live_server, applicant.email)
    applicant = change_email(page, words, mailbox, live_server, applicant)
    download_my_data(page, words, tmp_path, applicant.email, reference)
    delete_account(page, words, live_server, applicant, reference)

    sign_in_refused(page, words, applicant.email, applicant.password)
    assert account_of(live_server, applicant.email) is None
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)
