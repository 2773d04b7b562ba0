"""Links and callbacks follow the address the service is reached on, worked out when they are made."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from kitas.services.notifications import absolute_link
from kitas.services.public_address import DEFAULT_ADDRESS, absolute, public_url, served_address


@pytest.fixture()
def unconfigured(app: Flask) -> Iterator[Flask]:
    """The application as started without KITAS_PUBLIC_URL."""
    saved = app.config["KITAS_PUBLIC_URL"], app.config.get("KITAS_SERVED_URL")
    app.config["KITAS_PUBLIC_URL"] = None
    app.config.pop("KITAS_SERVED_URL", None)
    with app.app_context():
        yield app
    app.config["KITAS_PUBLIC_URL"], app.config["KITAS_SERVED_URL"] = saved


def test_without_a_public_url_links_follow_the_served_address(unconfigured: Flask) -> None:
    assert public_url() == DEFAULT_ADDRESS  # nothing served yet (a scheduler on its own)
    unconfigured.config["KITAS_SERVED_URL"] = served_address("0.0.0.0", 5222)
    assert public_url() == "http://127.0.0.1:5222"
    assert absolute_link("/applications/E23-2026-AAAA") == "http://127.0.0.1:5222/applications/E23-2026-AAAA"


def test_a_configured_public_url_is_used_as_given(unconfigured: Flask) -> None:
    unconfigured.config["KITAS_SERVED_URL"] = "http://127.0.0.1:5222"
    unconfigured.config["KITAS_PUBLIC_URL"] = "https://kitas.example.go.id/"
    assert public_url() == "https://kitas.example.go.id"
    assert absolute("/auth/verify?token=abc") == "https://kitas.example.go.id/auth/verify?token=abc"


def test_an_old_absolute_callback_is_rebased_on_the_address_of_now(unconfigured: Flask) -> None:
    unconfigured.config["KITAS_SERVED_URL"] = "http://127.0.0.1:5222"
    assert (
        absolute("http://127.0.0.1:5000/webhooks/payments/sandbox") == "http://127.0.0.1:5222/webhooks/payments/sandbox"
    )
    assert absolute_link("https://elsewhere.example/x") == "https://elsewhere.example/x"  # other sites are kept


@pytest.mark.parametrize(
    ("host", "port", "address"),
    [
        ("127.0.0.1", 5000, "http://127.0.0.1:5000"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("::1", 5001, "http://[::1]:5001"),
    ],
)
def test_the_served_address_is_one_this_machine_can_reach(host: str, port: int, address: str) -> None:
    assert served_address(host, port) == address
