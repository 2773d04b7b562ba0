"""When the database cannot be reached, pages say so with a 503, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture()
def unreachable(tmp_path: Path) -> Flask:
    """An application whose database file lies in a folder that does not exist (cannot be opened)."""
    from app import create_app

    missing = tmp_path / "no-such-folder" / "kitas.db"
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}",
            "KITAS_EMBEDDED_SCHEDULER": False,
            "SECRET_KEY": "x",
            "KITAS_PAYMENT_WEBHOOK_SECRET": "x",
        }
    )


def test_a_page_answers_503_with_a_plain_message(unreachable: Flask, caplog: pytest.LogCaptureFixture) -> None:
    response = unreachable.test_client().get("/ping", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    html = response.get_data(as_text=True)
    assert "The service is briefly unavailable" in html and "Try again in a minute" in html
    assert "Traceback" not in html and "OperationalError" not in html
    assert any("database unavailable for GET /ping" in r.getMessage() for r in caplog.records)


def test_a_signed_in_page_answers_503_too(unreachable: Flask) -> None:
    client = unreachable.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"  # loading the user needs the database
    response = client.get("/applications/", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert "briefly unavailable" in response.get_data(as_text=True)


def test_the_page_is_in_the_browser_language_without_the_database(unreachable: Flask) -> None:
    client = unreachable.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"  # the account's language would need the database
    html = client.get("/applications/", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert '<html lang="id">' in html and "Layanan sedang tidak tersedia sementara" in html
    client.set_cookie("kitas_lang", "en")
    assert "briefly unavailable" in client.get("/ping", headers={"Accept": "text/html"}).get_data(as_text=True)


def test_api_clients_get_json(unreachable: Flask) -> None:
    response = unreachable.test_client().get("/ping", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "The service is briefly unavailable"


def test_health_says_the_database_is_down(unreachable: Flask) -> None:
    response = unreachable.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"database": "error: OperationalError"}


def test_a_connection_dropped_by_a_database_restart_does_not_fail_the_end_of_the_request(ctx: Flask) -> None:
    """The session's closing rollback on a connection the server dropped must not turn the answer into a 500."""
    from sqlalchemy import text

    from kitas.extensions import db

    if db.engine.dialect.name != "postgresql":
        pytest.skip("dropping one connection from the server side is PostgreSQL's (pg_terminate_backend)")
    with ctx.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))  # the request's session holds a transaction
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
    # Leaving the context closed the session without raising; the next one works on a fresh connection.
    assert db.session.scalar(text("SELECT 1")) == 1
