"""The sandbox bank is a demo: every page says so while it is on, and an https deployment refuses it
unless KITAS_ALLOW_SANDBOX_PAYMENTS=1 chooses it on purpose."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from engine import ManualClock
from kitas.config import ConfigurationError, load_config

BANNER = b"Demo payments: no real money moves."
Login = Callable[[Any], FlaskClient]


def _app(database_url: str, clock: ManualClock, **config: Any) -> Flask:
    from app import create_app
    from tests.conftest import EnglishBrowserClient

    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "KITAS_EMBEDDED_SCHEDULER": False,
            "KITAS_PAYMENT_WEBHOOK_SECRET": "test-webhook-secret",
            **config,
        },
        clock=clock,
    )
    application.test_client_class = EnglishBrowserClient  # the banner is read in English here
    return application


@pytest.fixture()
def other_apps(app: Flask) -> Iterator[list[Flask]]:
    """Applications a test creates on the suite's database; their connections are closed afterwards."""
    from kitas.extensions import db

    made: list[Flask] = []
    yield made
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("path", ["/", "/types", "/auth/login", "/auth/register", "/no-such-page"])
def test_every_page_says_payments_are_a_demo(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert BANNER in response.data and b'data-testid="demo-payments-banner"' in response.data


def test_signed_in_pages_say_it_too(users: dict[str, Any], login_as: Login) -> None:
    for who, path in (("applicant", "/applications/"), ("verifier", "/officer/")):
        response = login_as(users[who]).get(path)
        assert response.status_code == 200 and BANNER in response.data, (who, path)


def test_with_a_real_provider_there_is_no_banner_and_no_sandbox_bank(
    database_url: str, clock: ManualClock, other_apps: list[Flask]
) -> None:
    real = _app(database_url, clock, KITAS_PAYMENT_PROVIDER="acme-bank", KITAS_PUBLIC_URL="https://kitas.example.go.id")
    other_apps.append(real)
    client = real.test_client()
    response = client.get("/auth/login")
    assert response.status_code == 200 and BANNER not in response.data
    assert client.get("/sandbox-bank/").status_code == 404


def test_an_https_deployment_refuses_to_start_with_the_sandbox(database_url: str, clock: ManualClock) -> None:
    for chosen in ({}, {"KITAS_PAYMENT_PROVIDER": "sandbox"}):
        with pytest.raises(ConfigurationError) as refused:
            _app(database_url, clock, KITAS_PUBLIC_URL="https://kitas.example.go.id/", **chosen)
        message = str(refused.value)
        assert "https://kitas.example.go.id is https" in message and "no real money moves" in message
        assert "Set KITAS_PAYMENT_PROVIDER to your payment provider" in message
        assert "KITAS_ALLOW_SANDBOX_PAYMENTS=1" in message


def test_an_https_demo_site_may_run_the_sandbox_on_purpose_and_says_so(
    database_url: str, clock: ManualClock, other_apps: list[Flask]
) -> None:
    demo = _app(
        database_url, clock, KITAS_PUBLIC_URL="https://demo.kitas.example.org", KITAS_ALLOW_SANDBOX_PAYMENTS=True
    )
    other_apps.append(demo)
    client = demo.test_client()
    assert BANNER in client.get("/auth/login").data
    assert client.get("/sandbox-bank/").status_code == 200


@pytest.mark.parametrize("public_url", [None, "http://127.0.0.1:5222", "http://kitas.test"])
def test_the_start_command_and_plain_http_run_the_sandbox(
    database_url: str, clock: ManualClock, other_apps: list[Flask], public_url: str | None
) -> None:
    local = _app(database_url, clock, KITAS_PUBLIC_URL=public_url)
    other_apps.append(local)
    assert local.config["KITAS_PAYMENT_PROVIDER"] == "sandbox"
    assert BANNER in local.test_client().get("/").data


@pytest.mark.parametrize(("value", "allowed"), [(None, False), ("0", False), ("yes", False), ("1", True)])
def test_the_allow_setting_is_read_from_the_environment(
    value: str | None, allowed: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if value is None:
        monkeypatch.delenv("KITAS_ALLOW_SANDBOX_PAYMENTS", raising=False)
    else:
        monkeypatch.setenv("KITAS_ALLOW_SANDBOX_PAYMENTS", value)
    config = load_config(tmp_path, {"SECRET_KEY": "x", "KITAS_PAYMENT_WEBHOOK_SECRET": "y"})
    assert config["KITAS_ALLOW_SANDBOX_PAYMENTS"] is allowed


def test_the_kitas_command_says_why_it_does_not_start(tmp_path: Path) -> None:
    from kitas.cli import command_group

    env = {
        "KITAS_DATABASE_URL": f"sqlite:///{tmp_path / 'kitas.db'}",
        "KITAS_SECRET_KEY": "s",
        "KITAS_PAYMENT_WEBHOOK_SECRET": "w",
        "KITAS_PUBLIC_URL": "https://kitas.example.go.id",
        "KITAS_PAYMENT_PROVIDER": None,
        "KITAS_ALLOW_SANDBOX_PAYMENTS": None,
    }
    result = CliRunner().invoke(command_group(), ["routes"], env=env)
    assert result.exit_code == 2
    assert "KITAS Online cannot start: the public address https://kitas.example.go.id is https" in result.output
    assert "Traceback" not in result.output
    allowed = CliRunner().invoke(command_group(), ["routes"], env={**env, "KITAS_ALLOW_SANDBOX_PAYMENTS": "1"})
    assert allowed.exit_code == 0 and "sandbox_bank.index" in allowed.output
