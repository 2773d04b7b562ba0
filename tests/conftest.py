"""Test fixtures: one application per session, a clean database per test, a controlled clock.

The suite runs on SQLite by default (a file, so threads share it) and on
PostgreSQL when KITAS_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import text

from engine import ManualClock

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database the suite runs on."""
    url = os.environ.get("KITAS_TEST_POSTGRES_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    """The application's clock; tests move it instead of sleeping."""
    return ManualClock()


class EnglishBrowserClient(FlaskClient):
    """A test client whose browser asks for English, as most tests read the English texts; tests of
    the Indonesian pages send their own ``Accept-Language`` or choose the language on the page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")


@pytest.fixture(scope="session")
def app(database_url: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application, with the schema built by the real migrations."""
    from flask_migrate import downgrade, upgrade

    from app import create_app

    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "KITAS_EMBEDDED_SCHEDULER": False,
            # Tests post forms directly; the `csrf_on` fixture turns protection back on to test it.
            "WTF_CSRF_ENABLED": False,
            "KITAS_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "KITAS_PAYMENT_WEBHOOK_SECRET": "test-webhook-secret",
            "KITAS_PUBLIC_URL": "http://kitas.test",
            # Scripts that hit their limits fail fast in tests; normal scripts need a fraction of this.
            "KITAS_SCRIPT_CPU_SECONDS": 0.25,
            "KITAS_SCRIPT_MEMORY_MB": 64,
        },
        clock=clock,
    )
    application.test_client_class = EnglishBrowserClient
    with application.app_context():
        from kitas.extensions import db

        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        downgrade(revision="base")
        upgrade()
        db.session.remove()
    yield application


def _wipe(app: Flask) -> None:
    from kitas.extensions import db

    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f'DELETE FROM "{name}"'))
    # Nothing to seed: audit chain heads (on the case rows and in audit_chain) start empty, like the tables.
    db.session.commit()


@pytest.fixture()
def ctx(app: Flask, clock: ManualClock) -> Iterator[Flask]:
    """An application context on an empty database, with roles created and the clock reset."""
    from kitas.extensions import db
    from kitas.services.accounts.roles import ensure_roles

    clock.set(ManualClock().now())
    with app.app_context():
        _wipe(app)
        ensure_roles()
        yield app
        db.session.remove()


@pytest.fixture()
def worker(ctx: Flask) -> int:
    """The worker diagram deployed from the repository; returns the definition id."""
    return deploy_worker().definition_id


def deploy_shared_steps() -> list[Any]:
    """Deploy every shared step of bpmn/shared/ (the type diagrams call them; deploy them first)."""
    from kitas.services.deployments import deploy_path

    return [deploy_path(path, ROOT / "forms" / "schemas") for path in sorted((ROOT / "bpmn" / "shared").glob("*.bpmn"))]


def deploy_fee_table(table: str) -> Any:
    """Deploy the payment step with another fee table (``fees.dmn``); every type that calls it gets a new
    version with the table, as an analyst's change would."""
    from kitas.services.deployments import collect_files, deploy

    bpmn, files = collect_files(ROOT / "bpmn" / "shared" / "shared_payment.bpmn", ROOT / "forms" / "schemas")
    return deploy(bpmn, {**files, "fees.dmn": table})


def deploy_worker() -> Any:
    """The shared steps, then the worker diagram, deployed from the repository (as ``kitas init`` does)."""
    from kitas.services.deployments import deploy_path

    deploy_shared_steps()
    return deploy_path(ROOT / "bpmn" / "kitas_worker.bpmn", ROOT / "forms" / "schemas")


@pytest.fixture()
def users(ctx: Flask) -> dict[str, Any]:
    """One user per role, plus a second applicant, addresses confirmed: ``users['applicant']`` etc."""
    from kitas.extensions import db
    from tests.factories import make_user

    people = {
        "applicant": make_user("applicant", email="ana@example.org", name="Ana Applicant"),
        "other_applicant": make_user("applicant", email="otto@example.org", name="Otto Other"),
        "sponsor": make_user("sponsor", email="hr@employer.co.id", name="PT Employer HR"),
        "verifier": make_user("verifier", email="vera@imigrasi.example", name="Vera Verifier"),
        "verifier2": make_user("verifier", email="victor@imigrasi.example", name="Victor Verifier"),
        "supervisor": make_user("supervisor", email="sam@imigrasi.example", name="Sam Supervisor"),
        "analyst": make_user("analyst", email="alex@imigrasi.example", name="Alex Analyst"),
        "admin": make_user("admin", email="ada@imigrasi.example", name="Ada Admin"),
    }
    # They all confirmed their addresses (tests of unconfirmed accounts make their own users).
    for person in people.values():
        person.email_verified_at = person.created_at
    db.session.commit()
    return people


@pytest.fixture()
def client(ctx: Flask) -> FlaskClient:
    """A test client on the clean database of ``ctx``."""
    return ctx.test_client()


@pytest.fixture()
def login_as(client: FlaskClient) -> Callable[[Any], FlaskClient]:
    """Sign a user in on ``client``, as the sign-in pages leave the session after the password and, for
    a user with an app (every officer of the factory), the code step. Tests of those steps use the pages."""
    from kitas.services.accounts import is_enrolled
    from kitas.web.access import SECOND_FACTOR_KEY

    def _login(user: Any) -> FlaskClient:
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            if is_enrolled(user):
                session[SECOND_FACTOR_KEY] = user.get_id()
        # Requests reuse the test's application context, so Flask-Login's per-context cache of the
        # user would otherwise outlive the switch.
        g.pop("_login_user", None)
        return client

    return _login


@pytest.fixture()
def csrf_on(app: Flask) -> Iterator[None]:
    """CSRF protection enabled, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


class _SmtpInbox:
    """An aiosmtpd handler that keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def smtp_server(app: Flask) -> Iterator[list[Any]]:
    """A real SMTP server (aiosmtpd) on a free local port that the app sends to; yields the received messages."""
    from aiosmtpd.controller import Controller

    inbox = _SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {key: app.config.get(key) for key in ("KITAS_SMTP_HOST", "KITAS_SMTP_PORT")}
    app.config.update(KITAS_SMTP_HOST="127.0.0.1", KITAS_SMTP_PORT=port)
    try:
        yield inbox.messages
    finally:
        app.config.update(saved)
        controller.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's standalone server) on a free port of 127.0.0.1, with a bucket."""
    from moto.server import ThreadedMotoServer

    from tests.stores import BUCKET, s3_client

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
def stored_files(request: pytest.FixtureRequest, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The application's document store for one test, on the local disk and then in an S3 bucket
    (a fresh folder or prefix each time); yields a view of the stored files from outside the app."""
    from uuid import uuid4

    from tests.stores import BUCKET, S3_SETTINGS, BucketFiles, DiskFiles, s3_client

    if request.param == "local":
        folder = tmp_path / "uploads"
        monkeypatch.setitem(app.config, "KITAS_DOCUMENT_STORE", None)
        monkeypatch.setitem(app.config, "KITAS_UPLOAD_DIR", str(folder))
        return DiskFiles(folder)
    endpoint = request.getfixturevalue("s3_endpoint")
    prefix = f"test-{uuid4().hex[:12]}/"
    monkeypatch.setitem(app.config, "KITAS_DOCUMENT_STORE", f"s3://{BUCKET}/{prefix}")
    monkeypatch.setitem(app.config, "KITAS_S3_ENDPOINT_URL", endpoint)
    for name, value in S3_SETTINGS.items():
        monkeypatch.setitem(app.config, name, value)
    return BucketFiles(s3_client(endpoint), BUCKET, prefix)


@pytest.fixture()
def family(ctx: Flask) -> int:
    """The family diagram deployed from the repository (with the shared steps it calls); its definition id."""
    from kitas.services.deployments import deploy_path

    deploy_shared_steps()
    result = deploy_path(ROOT / "bpmn" / "kitas_family.bpmn", ROOT / "forms" / "schemas")
    return result.definition_id


@pytest.fixture(autouse=True)
def _one_office_until_the_domicile_rule(request: pytest.FixtureRequest) -> Iterator[None]:
    """The inbox shows officers their offices' tasks only. Until cases get their office from the catalog's
    domicile rule and the factory gives officers an office (the offices work), every case of a test with
    a database is in one office and every officer (not an admin) works in it. Remove at that merge.

    A test that needs a case of no office, or an officer elsewhere, changes the rows itself."""
    if "ctx" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("ctx")
    with one_office_for_everyone():
        yield


@contextmanager
def one_office_for_everyone() -> Iterator[None]:
    """(Interim, see above.) In the current application context: one office, every officer already there
    in it; while open, every new case is in it and every new officer works in it."""
    from sqlalchemy import event, insert, select

    from kitas.extensions import db
    from kitas.models import Application, Office, User, officer_offices
    from kitas.services.cases.access import OFFICER_ROLES

    office = Office(
        code="TST",
        name="Kantor Imigrasi Uji",
        city="Jakarta Selatan",
        address="Jl. Uji No. 1",
        time_zone="Asia/Jakarta",
        opens="08:00",
        closes="16:00",
        working_days="1,2,3,4,5",
        active=True,
    )
    db.session.add(office)
    db.session.flush()
    office_id = office.id

    def is_officer(user: Any) -> bool:
        return any(role.name in OFFICER_ROLES for role in user.roles) and not user.has_role("admin")

    for user in db.session.scalars(select(User)):
        if is_officer(user):
            db.session.execute(insert(officer_offices).values(user_id=user.id, office_id=office_id))
    db.session.commit()

    def case_in_office(mapper: Any, connection: Any, target: Any) -> None:
        if target.office_id is None:
            target.office_id = office_id

    def officer_in_office(mapper: Any, connection: Any, target: Any) -> None:
        if is_officer(target):
            connection.execute(insert(officer_offices).values(user_id=target.id, office_id=office_id))

    event.listen(Application, "before_insert", case_in_office)
    event.listen(User, "after_insert", officer_in_office)
    try:
        yield
    finally:
        event.remove(Application, "before_insert", case_in_office)
        event.remove(User, "after_insert", officer_in_office)
