"""An officer sets up an authenticator app in a real browser, then signs in with codes computed by pyotp."""

from __future__ import annotations

import re
import secrets
import time
from typing import TYPE_CHECKING, Any

import pyotp
import pytest

from tests.e2e.test_worker_journey import expect

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def _step() -> int:
    return int(time.time()) // 30


def _code(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).at(step * 30))


def test_an_officer_enrols_and_signs_in_with_a_code(browser_context: Any, live_server: LiveServer) -> None:
    from kitas.extensions import db
    from kitas.services.accounts import create_account

    email = f"sari.{secrets.token_hex(3)}@imigrasi.example"
    with live_server.app.app_context():
        create_account(email, "Sari Supervisor", live_server.staff_password, ["supervisor"], verified=True)
        db.session.remove()
    page = browser_context.new_page()

    # The password alone opens nothing: the officer's first sign-in goes to setting up an app.
    page.goto("/officer/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(live_server.staff_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret

    # A wrong code: the page says so and keeps the same key.
    page.get_by_label("Code from the app").fill("12345")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_test_id("code-error")).to_be_visible()
    assert page.get_by_test_id("totp-secret").inner_text().replace(" ", "") == secret

    enrolled_step = _step()
    page.get_by_label("Code from the app").fill(_code(secret, enrolled_step))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("heading", name=re.compile("Keep these recovery codes"))).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have kept them, continue").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Sari Supervisor")
    expect(page.get_by_role("heading", name="Task inbox")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    # The next sign-in asks for the code; the one just used is refused, the app's next one works.
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(live_server.staff_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter the code from your app")).to_be_visible()
    page.get_by_label("Code").fill(_code(secret, enrolled_step))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("code-error")).to_be_visible()  # used already (or too old by now)
    page.get_by_label("Code").fill(_code(secret, max(_step(), enrolled_step + 1)))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Sari Supervisor")
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_test_id("mfa-status")).to_contain_text("unused recovery codes")
    assert live_server.problems == [], "the server had errors:\n" + "\n".join(live_server.problems)
