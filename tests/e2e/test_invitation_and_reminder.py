"""A sponsor invited without an account, and a reminder delivered, in a real browser against a live server.

* The applicant names an employer address that has no account: the invitation arrives at the mail
  catcher, its link opens the sponsor's sign-up (the address already confirmed), and the new sponsor
  confirms the guarantee; the applicant's status page said where and when the invitation went.
* The applicant names the registered sponsor, who does not answer: once three days have passed (the
  task's opening moved back three days in the database, as the scheduler cannot be made to wait),
  the live server's own scheduler sends the reminder e-mail, and the sponsor's bell counts it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_worker_journey import (
    Person,
    expect,
    fill_applicant_data,
    fill_employment_data,
    register_applicant,
    sign_in,
    sign_out,
    sponsor_confirms,
    staff,
    start_worker_application,
)
from tests.e2e.words import Words
from tests.worker_data import APPLICANT_DATA

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, Mailbox

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_sponsor_without_an_account_is_invited_and_confirms(
    browser_context: Any, live_server: LiveServer, mailbox: Mailbox, words: Words
) -> None:
    page = browser_context.new_page()
    applicant = register_applicant(page, words, live_server, mailbox)
    reference = start_worker_application(page, words)
    fill_applicant_data(page, words, applicant.email)
    employer = f"hr.{secrets.token_hex(3)}@employer.example"
    fill_employment_data(page, words, employer)

    # The status page says where the invitation went, and when.
    page.goto(f"/applications/{reference}")
    expect(page.get_by_test_id("invitation-sent")).to_contain_text(employer)

    invitation = mailbox.wait_for(employer, reference)
    links = [link for link in mailbox.links_in(invitation, live_server.url) if "/auth/invitation/" in link]
    assert links, f"no invitation link in the e-mail:\n{mailbox.text_of(invitation)}"
    sign_out(page, words)

    # The link is the sign-up: the address is the invited one and needs no confirmation.
    sponsor = Person(employer, "Nasi-Goreng-" + secrets.token_hex(4), "Budi Santoso")
    page.goto(links[0])
    expect(page.get_by_role("heading", name=words("Create your sponsor account"))).to_be_visible()
    expect(page.get_by_test_id("invitation-for")).to_contain_text(reference)
    page.get_by_label(words("Full name")).fill(sponsor.name)
    page.get_by_label(words("Phone number with country code")).fill(APPLICANT_DATA["phone"])
    page.get_by_label(words("Password"), exact=True).fill(sponsor.password)
    page.get_by_label(words("Password again")).fill(sponsor.password)
    page.locator("#f-consent").check()
    page.get_by_role("button", name=words("Create my sponsor account")).click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(sponsor.name)

    sponsor_confirms(page, words, reference, applicant.name)
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_sponsor_who_does_not_answer_is_reminded(
    browser_context: Any, live_server: LiveServer, mailbox: Mailbox, words: Words
) -> None:
    from sqlalchemy import update

    from kitas.extensions import db
    from kitas.models import Application, HumanTask, Reminder

    page = browser_context.new_page()
    sponsor = staff(live_server, "sponsor")
    applicant = register_applicant(page, words, live_server, mailbox)
    reference = start_worker_application(page, words)
    fill_applicant_data(page, words, applicant.email)
    fill_employment_data(page, words, sponsor.email)
    sign_out(page, words)

    # Three days pass for the sponsor's task (and for a reminder row the scheduler planned already).
    with live_server.app.app_context():
        application_id = db.session.query(Application.id).filter_by(reference=reference).scalar()
        task = db.session.query(HumanTask).filter_by(application_id=application_id).one()
        opened = task.created_at - timedelta(days=3, minutes=1)
        db.session.execute(update(HumanTask).where(HumanTask.id == task.id).values(created_at=opened))
        db.session.execute(
            update(Reminder)
            .where(Reminder.application_id == application_id)
            .values(due_at=opened + timedelta(days=3), event_at=opened)
        )
        db.session.commit()
        db.session.remove()

    # The sponsor's account has no language of its own: the reminder is in Bahasa Indonesia, the default.
    subject = Words("id")("{reference}: the applicant is still waiting for your guarantee")
    reminder = mailbox.wait_for(sponsor.email, subject.replace("{reference}", reference))
    assert applicant.name in mailbox.text_of(reminder)
    assert any("/sponsor/" in link for link in mailbox.links_in(reminder, live_server.url))

    # In the app too, in the language of the sponsor's browser: the bell counts it, the list shows it unread.
    shown = words("{reference}: the applicant is still waiting for your guarantee").replace("{reference}", reference)
    sign_in(page, words, sponsor)
    expect(page.get_by_test_id("bell-count")).to_be_visible()
    page.get_by_test_id("bell").click()
    unread = page.get_by_test_id("notifications").locator("[data-testid=notification][data-state=unread]")
    expect(unread.filter(has_text=shown)).to_have_count(1)
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)
