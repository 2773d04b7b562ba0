"""Access rules every page shares: sign-in, roles per blueprint, CSRF on every form, headers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

PROTECTED_PAGES = [
    ("/applications/", "applicant"),
    ("/applications/E23-2026-AAAAAAAA", "applicant"),
    ("/sponsor/", "sponsor"),
    ("/officer/", "verifier"),
    ("/admin/incidents", "admin"),
    ("/admin/incidents/1", "admin"),
    ("/admin/cases/E23-2026-AAAAAAAA", "admin"),
]


@pytest.mark.parametrize(("url", "role"), PROTECTED_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: Any, url: str, role: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize(("url", "role"), PROTECTED_PAGES)
def test_other_roles_get_403(users: dict[str, Any], login_as: Any, url: str, role: str) -> None:
    outsider = users["analyst"]
    response = login_as(outsider).get(url)
    assert response.status_code == 403
    assert "This page is for the roles" in response.get_data(as_text=True)


def _post_rules(app: Flask) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.rule.startswith("/webhooks/"):
            continue
        values = {name: "x" for name in rule.arguments}
        try:
            urls.append(rule.rule if not values else rule.build(values)[1])  # type: ignore[index]
        except ValueError:  # a number in the path (an incident's id)
            urls.append(rule.build(dict.fromkeys(values, 1))[1])  # type: ignore[index]
    return urls


def test_every_form_needs_the_csrf_token(app: Flask, client: Any, csrf_on: None) -> None:
    urls = _post_rules(app)
    assert len(urls) >= 8
    for url in urls:
        response = client.post(url, data={"anything": "1"})
        assert response.status_code == 400, url
        assert "The form expired" in response.get_data(as_text=True), url


def test_pages_carry_security_headers(client: Any) -> None:
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_no_template_carries_an_inline_style_the_policy_would_block(client: Any) -> None:
    """The policy says style-src 'self': a style="..." attribute is dropped by the browser (a note's line
    breaks, a placeholder's size), so templates use classes of kitas.css instead."""
    assert "style-src 'self'" in client.get("/").headers["Content-Security-Policy"]
    templates = Path(__file__).resolve().parents[2] / "kitas" / "templates"
    inline = [
        f"{path.relative_to(templates)}:{number}"
        for path in sorted(templates.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"<[^>]*\sstyle\s*=\s*[\"']", line)  # an attribute inside a tag
    ]
    assert inline == []


def test_public_pages_render(client: Any) -> None:
    assert "Apply for your Indonesian limited-stay permit" in client.get("/").get_data(as_text=True)
    assert "E23" in client.get("/types").get_data(as_text=True)
    assert "RPTKA approval" in client.get("/types/worker").get_data(as_text=True)
    assert client.get("/types/astronaut").status_code == 404
    assert client.get("/ping").get_json()["ok"] is True


def test_an_absurd_page_number_is_the_last_possible_page(users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["verifier"])
    response = client.get("/officer/?page=99999999999999999999")
    page = response.get_data(as_text=True)
    # Past the last page: the last page is shown (empty here), and the page says so.
    assert response.status_code == 200 and 'data-testid="inbox-empty"' in page and 'data-testid="page-moved"' in page


def test_the_sandbox_bank_exists_only_with_the_sandbox_provider(tmp_path: Any) -> None:
    from app import create_app

    settings = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "KITAS_EMBEDDED_SCHEDULER": False, "SECRET_KEY": "x"}
    real = create_app({**settings, "KITAS_PAYMENT_PROVIDER": "bank-of-somewhere"})
    assert "sandbox_bank" not in real.blueprints
    assert "sandbox_bank" in create_app(settings).blueprints
