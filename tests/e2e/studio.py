"""Driving the analysts' studio in the browser: analysts with an authenticator app, a process's draft opened
from the studio's list, the modeler waited for, the saved diagram read, and the console's problems kept.

Shared by the studio's browser tests (modeler, editors, trial, review, and the issue's proof)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from tests.e2e.test_worker_journey import Person, expect

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

# What dmn-js's bundle itself logs under the strict CSP: the inline styles it applies are refused (the decision
# table still works: its layout comes from its style sheets), and Inferno's notice about its build. The favicon
# request's 404 is the browser's own.
VENDOR_NOISE = (
    "Applying inline style violates the following Content Security Policy",
    "It looks like you're using a minified copy of the development build of Inferno",
    "Failed to load resource: the server responded with a status of 404",
)


def new_analyst(server: LiveServer, name: str = "Alex Analyst", password: str | None = None) -> Person:
    """An analyst account in the live server's database, enrolled with an authenticator app of its own (analysts
    sign in with a second factor, as ``kitas demo`` sets them up)."""
    import pyotp

    from kitas.extensions import db
    from kitas.services.accounts import create_account
    from kitas.services.accounts.second_factor import enrol_with_secret

    person = Person(
        f"{name.split()[0].lower()}.{secrets.token_hex(3)}@imigrasi.example",
        password or server.staff_password,
        name,
        pyotp.random_base32(),
    )
    with server.app.app_context():
        user = create_account(person.email, person.name, person.password, ["analyst"], verified=True)
        assert person.totp_secret
        enrol_with_secret(user, person.totp_secret)
        db.session.remove()
    return person


def open_draft_of(page: Any, process_id: str) -> str:
    """From the studio's list, edit (or continue editing) a process; waits for the diagram. Returns the page's URL."""
    page.goto("/studio/")
    page.locator(f'[data-process="{process_id}"]').get_by_role("button").click()
    wait_until_drawn(page)
    return str(page.url)


def wait_until_drawn(page: Any) -> None:
    """The modeler has drawn its diagram and listed its problems."""
    expect(page.locator("[data-studio-modeler]")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("lint-summary")).not_to_be_empty()


def diagram(page: Any) -> str:
    """The draft's diagram as the server has it saved (what the modeler loads)."""
    url = page.locator("[data-studio-modeler]").get_attribute("data-diagram-url")
    return str(page.request.get(url).text())


def console_problems(page: Any, ignore: tuple[str, ...] = VENDOR_NOISE) -> list[str]:
    """Every error the page logs in its console (a refused script or style: the CSP) or throws, except the
    known ``ignore`` prefixes; the list fills while the test runs."""
    found: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith(ignore):
            found.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found
