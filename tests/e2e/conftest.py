"""Fixtures of the browser tests: a live server as in production, a mail catcher, headless chromium.

The live server is a fresh application of its own, NOT the session ``app`` of
tests/conftest.py: CSRF protection is on, mail goes over SMTP to an aiosmtpd
server started here, the embedded scheduler runs (so e-mails and the payment
provider's webhooks are delivered for real, every half second), and werkzeug
serves it from a thread on a free port. It runs on the real clock, not the
suite's ManualClock: the scheduler, the webhook's signed timestamp and the
browser all live in real time, and the journey never needs a deadline to pass.

Database: on SQLite the live server has its own file in a temporary folder. On
PostgreSQL (KITAS_TEST_POSTGRES_URL set) it gets a schema of its own in that
database (``e2e_<random>``, reached through ``search_path``), built by the real
migrations and dropped afterwards. So it never touches the tables of the
session app, which drops and rebuilds ``public`` when it starts and wipes it
before every test; both may live in one pytest run in any order.

Playwright drives Debian's chromium (/usr/bin/chromium); Playwright's own
browser download is never used. Without that binary the tests are skipped,
unless KITAS_REQUIRE_BROWSER=1 (CI) makes that a failure. When a test fails,
a screenshot of every open page is saved in the test's tmp dir and its path is
printed in the report, next to any server-side traceback.
"""

from __future__ import annotations

import email
import logging
import os
import re
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, got_request_exception

from tests.conftest import one_office_for_everyone
from tests.e2e.words import Words

CHROMIUM = Path("/usr/bin/chromium")
# Generous: the machine has two shared cores, and chromium, the server and the scheduler share them.
TIMEOUT_MS = 45_000
MAIL_TIMEOUT_S = 60.0
STAFF_PASSWORD = "e2e-Staff-passw0rd-" + secrets.token_hex(4)
# Accounts the live server starts with (the applicant registers through the pages).
STAFF = {
    "verifier": ("vera.verifier@imigrasi.example", "Vera Verifier"),
    "supervisor": ("sam.supervisor@imigrasi.example", "Sam Supervisor"),
    "sponsor": ("hr@contoh-teknologi.example", "PT Contoh Teknologi HR"),
}
# The officers among them, each enrolled at start with an authenticator-app secret of its own.
STAFF_WITH_APP = ("verifier", "supervisor")

_EVIDENCE = pytest.StashKey["Evidence"]()


# -- the browser binary ---------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def chromium_path() -> Path:
    """Debian's chromium; skip the browser tests without it, unless KITAS_REQUIRE_BROWSER=1."""
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run browser tests"
    if os.environ.get("KITAS_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (KITAS_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


# -- mail -------------------------------------------------------------------------------------


class Mailbox:
    """The messages the live server sent over SMTP, in arrival order (an aiosmtpd handler)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = 0  # set once the SMTP server listens
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        """Keep the message and wake up whoever waits for it."""
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, recipient: str, subject_contains: str = "", timeout: float = MAIL_TIMEOUT_S) -> EmailMessage:
        """The first message to ``recipient`` whose subject contains the text; waits for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for message in self.messages:
                    if recipient.lower() in str(message["To"]).lower() and (
                        subject_contains.lower() in str(message["Subject"]).lower()
                    ):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [f"{m['To']}: {m['Subject']}" for m in self.messages] or ["nothing"]
                    raise AssertionError(
                        f"no e-mail to {recipient} with {subject_contains!r} in the subject within {timeout:.0f}s; "
                        f"received: {'; '.join(seen)}"
                    )
                self._arrived.wait(remaining)

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        """The plain-text body of a message."""
        part = message.get_body(preferencelist=("plain", "html"))
        assert part is not None, f"the e-mail {message['Subject']!r} has no text body"
        return str(part.get_content())

    def links_in(self, message: EmailMessage, base_url: str) -> list[str]:
        """Every link of the message that points at ``base_url``."""
        found = re.findall(r"https?://[^\s<>\"')]+", self.text_of(message))
        return [link.rstrip(".,;") for link in found if link.startswith(base_url)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server on a free local port that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port(), ready_timeout=30)
    controller.start()
    box.port = int(controller.port)
    try:
        yield box
    finally:
        controller.stop()


# -- the live server --------------------------------------------------------------------------


@dataclass
class LiveServer:
    """The application served over HTTP, with what went wrong on its side."""

    url: str
    app: Flask
    # The accounts the server starts with: role -> (e-mail, full name), all with ``staff_password``.
    staff: dict[str, tuple[str, str]]
    staff_password: str
    # role -> the TOTP secret of the officer's app (officers sign in with a code computed from it).
    staff_totp: dict[str, str] = field(default_factory=dict)
    # Tracebacks of requests that raised, and ERROR records of the server's loggers (scheduler jobs included).
    problems: list[str] = field(default_factory=list)
    # The text messages the sandbox SMS adapter "sent" (it only logs them; the log is read here).
    sms: SmsLog = field(default_factory=lambda: SmsLog())


class SmsLog(logging.Handler):
    """The SMS of the live server: the sandbox adapter logs each one on ``kitas.sms``; kept as (to, text)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[tuple[str, str]] = []
        self._arrived = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep a "sandbox SMS ... to %s: %s" record as (number, text)."""
        if isinstance(record.args, tuple) and len(record.args) == 2:
            with self._arrived:
                self.messages.append((str(record.args[0]), str(record.args[1])))
                self._arrived.notify_all()

    def wait_for(self, to: str, contains: str, timeout: float = MAIL_TIMEOUT_S) -> str:
        """The first SMS to the number ``to`` (digits compared) whose text contains ``contains``."""
        digits = re.sub(r"\D", "", to)
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for number, text in self.messages:
                    if re.sub(r"\D", "", number) == digits and contains in text:
                        return text
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [f"{number}: {text}" for number, text in self.messages] or ["nothing"]
                    raise AssertionError(
                        f"no SMS to {to} containing {contains!r} within {timeout:.0f}s; sent: {'; '.join(seen)}"
                    )
                self._arrived.wait(remaining)


class _ProblemLog(logging.Handler):
    """Keeps the formatted ERROR records of the application's loggers."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.problems = problems
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Remember the record with its traceback."""
        self.problems.append(self.format(record))


def _database(tmp: Path) -> tuple[str, Callable[[], None]]:
    """The live server's database URL, and what removes that database afterwards."""
    base = os.environ.get("KITAS_TEST_POSTGRES_URL")
    if not base:
        return f"sqlite:///{tmp / 'e2e.db'}", lambda: None
    import psycopg

    plain = base.replace("postgresql+psycopg://", "postgresql://", 1)
    schema = f"e2e_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote('-csearch_path=' + schema)}", drop


def _enable_loggers() -> None:
    """Alembic's fileConfig disables every logger that existed before it; the server's must speak."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in ("kitas", "engine", "apscheduler", "werkzeug"):
            logger.disabled = False


def _initialise(app: Flask) -> dict[str, str]:
    """As ``kitas init`` does: migrations, roles, every diagram deployed; then the staff and sponsor
    accounts, the officers with an authenticator app as ``kitas demo`` sets up. Returns role -> secret."""
    import pyotp
    from flask_migrate import upgrade

    from kitas.extensions import db
    from kitas.services.accounts import create_account
    from kitas.services.accounts.roles import ensure_roles
    from kitas.services.accounts.second_factor import enrol_with_secret
    from kitas.services.deployments import deploy_all

    secrets_by_role = {}
    with app.app_context():
        upgrade()
        ensure_roles()
        deploy_all(Path(app.config["KITAS_BPMN_DIR"]), Path(app.config["KITAS_FORMS_DIR"]), actor="e2e")
        for role, (address, name) in STAFF.items():
            user = create_account(address, name, STAFF_PASSWORD, [role], verified=True, phone="+62 812 0000 0000")
            if role in STAFF_WITH_APP:
                secrets_by_role[role] = pyotp.random_base32()
                enrol_with_secret(user, secrets_by_role[role])
        db.session.remove()
    return secrets_by_role


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[LiveServer]:
    """A fresh application, initialised like ``kitas init``, served on a free port with its scheduler running."""
    from werkzeug.serving import make_server

    from app import create_app
    from kitas.extensions import db
    from kitas.jobs.scheduler import start_background

    tmp = tmp_path_factory.mktemp("e2e-server")
    database_url, drop_database = _database(tmp)
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": True,
            "KITAS_EMBEDDED_SCHEDULER": False,  # started below, once the server answers
            "KITAS_OUTBOX_INTERVAL": 0.5,
            "KITAS_SMTP_HOST": "127.0.0.1",
            "KITAS_SMTP_PORT": mailbox.port,
            "KITAS_UPLOAD_DIR": str(tmp / "uploads"),
            "KITAS_PAYMENT_WEBHOOK_SECRET": secrets.token_hex(32),
            # Replaced by the real address as soon as the port is bound (below).
            "KITAS_PUBLIC_URL": "http://127.0.0.1",
        }
    )
    server = LiveServer(url="", app=app, staff=dict(STAFF), staff_password=STAFF_PASSWORD)
    interim = ExitStack()
    try:
        server.staff_totp = _initialise(app)
        with app.app_context():  # interim, until cases get their office from the domicile rule
            interim.enter_context(one_office_for_everyone())
        _enable_loggers()
        problem_log = _ProblemLog(server.problems)
        for name in ("kitas", "engine", "apscheduler"):
            logging.getLogger(name).addHandler(problem_log)
        sms_logger = logging.getLogger("kitas.sms")
        sms_logger.addHandler(server.sms)
        if not sms_logger.isEnabledFor(logging.WARNING):
            sms_logger.setLevel(logging.WARNING)

        def record_exception(sender: Flask, exception: BaseException, **extra: Any) -> None:
            server.problems.append("".join(traceback.format_exception(exception)))

        got_request_exception.connect(record_exception, app, weak=False)

        http = make_server("127.0.0.1", 0, app, threaded=True)
        server.url = f"http://127.0.0.1:{http.server_port}"
        app.config["KITAS_PUBLIC_URL"] = server.url  # links in e-mails and the provider's webhook target
        thread = threading.Thread(target=http.serve_forever, name="e2e-live-server", daemon=True)
        thread.start()
        scheduler = start_background(app, owner="e2e-scheduler")
        try:
            yield server
        finally:
            scheduler.shutdown(wait=True)
            http.shutdown()
            thread.join(timeout=30)
            http.server_close()
            for name in ("kitas", "engine", "apscheduler"):
                logging.getLogger(name).removeHandler(problem_log)
            sms_logger.removeHandler(server.sms)
            got_request_exception.disconnect(record_exception, app)
            interim.close()
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database()


# -- the browser ------------------------------------------------------------------------------


@dataclass
class Evidence:
    """What a failing test leaves behind: its browser pages, the server's problems, where to save."""

    context: Any
    server: LiveServer
    folder: Path
    browser_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Headless Debian chromium driven by Playwright's sync API."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def language() -> str:
    """The browser's language; a test runs in both with ``@pytest.mark.parametrize("language", ["en", "id"])``."""
    return "en"


@pytest.fixture()
def words(language: str) -> Words:
    """The texts the service shows in the browser's language (``words("Sign in")``)."""
    return Words(language)


# The browser's locale for each language: what its Accept-Language header asks for.
LOCALES = {"en": "en-US", "id": "id-ID"}


@pytest.fixture()
def browser_context(
    browser: Any, live_server: LiveServer, tmp_path: Path, request: pytest.FixtureRequest, language: str
) -> Iterator[Any]:
    """A fresh browser profile on the live server (relative URLs work), in ``language``; evidence is kept
    if the test fails."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 1000}, locale=LOCALES[language]
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    evidence = Evidence(context=context, server=live_server, folder=tmp_path)

    def console(message: Any) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            evidence.browser_errors.append(f"console error: {message.text} ({message.location.get('url')})")

    context.on("console", console)
    context.on("weberror", lambda error: evidence.browser_errors.append(f"page error: {error.error}"))
    request.node.stash[_EVIDENCE] = evidence
    try:
        yield context
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On failure, screenshot every open page and add the paths and the server's problems to the report."""
    report = yield
    evidence = item.stash.get(_EVIDENCE, None)
    if evidence is not None and report.when == "call" and report.failed:
        lines = []
        for index, page in enumerate(evidence.context.pages):
            path = evidence.folder / f"failure-page-{index}.png"
            try:
                page.screenshot(path=str(path), full_page=True, timeout=15_000)
                lines.append(f"screenshot of {page.url}: {path}")
            except Exception as exc:  # a crashed page must not hide the test's own failure
                lines.append(f"no screenshot of {page.url}: {exc}")
        print("\n".join(lines))
        lines += ["", "server-side problems:"] + (evidence.server.problems or ["none"])
        lines += ["", "browser errors:"] + (evidence.browser_errors or ["none"])
        report.sections.append(("e2e evidence", "\n".join(lines)))
    return report
