"""The e-permit's pages: the download from the status page (the holder's only), the officer's case page,
the public verification page in both languages with its refusals and limit, and the admins' revocation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import AuditEvent, Permit
from kitas.services.permits import downloads, issuance, tokens
from tests.permit_cases import issued_case, permit_of
from tests.permit_pdf import qr_codes
from tests.worker_data import APPLICANT_DATA

IN_INDONESIAN = {"Accept-Language": "id"}


def _text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _next_request() -> None:
    """Each real request has its own context; the test's context would keep Flask-Babel's cached language."""
    g.pop("_flask_babel", None)


def _verify_path(permit: Permit) -> str:
    return f"/verify/{tokens.sign(permit.token_id)}"


def test_the_holder_downloads_the_permit_from_the_status_page(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    application = issued_case(users, photo=True)
    permit = permit_of(application)
    client = login_as(users["applicant"])
    page = client.get(f"/applications/{application.reference}")
    html = page.get_data(as_text=True)
    link = f"/applications/{application.reference}/permit.pdf"
    assert page.status_code == 200 and f'href="{link}"' in html and permit.number in html
    assert 'data-testid="permit-revoked"' not in html
    # The block that refreshes itself has the link too.
    assert link in client.get(f"/applications/{application.reference}/timeline").get_data(as_text=True)
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"KITAS-{permit.number}.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert qr_codes(response.data) == [f"http://kitas.test{_verify_path(permit)}"]


def test_another_applicant_gets_404_and_the_refusal_is_audited(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    application = issued_case(users)
    client = login_as(users["other_applicant"])
    response = client.get(f"/applications/{application.reference}/permit.pdf")
    assert response.status_code == 404 and b"%PDF" not in response.data
    [refusal] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert refusal.actor_id == users["other_applicant"].id and refusal.detail["object"] == "permit"
    # A case without a permit has none to download either, for its own applicant too.
    assert login_as(users["applicant"]).get("/applications/NO-SUCH-CASE/permit.pdf").status_code == 404


def test_an_officer_finds_the_permit_on_the_case_page(worker: int, users: dict[str, Any], login_as: Any) -> None:
    application = issued_case(users)
    permit = permit_of(application)
    client = login_as(users["supervisor"])
    page = client.get(f"/officer/cases/{application.reference}")
    assert page.status_code == 200 and permit.number in page.get_data(as_text=True)
    response = client.get(f"/officer/cases/{application.reference}/permit.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert login_as(users["applicant"]).get(f"/officer/cases/{application.reference}/permit.pdf").status_code == 403


def test_the_verification_page_shows_only_what_a_checker_needs(
    worker: int, users: dict[str, Any], client: FlaskClient
) -> None:
    application = issued_case(users, photo=True)
    permit = permit_of(application)
    anonymous = client  # nobody signed in
    response = anonymous.get(_verify_path(permit))
    text = _text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Valid permit." in text and "A** L***" in text and "Work KITAS (E23)" in text
    assert "5 January 2026" in text and "4 January 2027" in text
    for secret in (APPLICANT_DATA["passport_number"], "Ana Lima", "1990", "2 April", permit.number):
        assert secret not in response.get_data(as_text=True), f"{secret!r} is on the public page"
    photo = anonymous.get(_verify_path(permit) + "/photo.jpg")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data.startswith(b"\xff\xd8")
    assert len(photo.data) < 20_000


def test_revoked_and_expired_permits_say_so(worker: int, users: dict[str, Any], login_as: Any, clock: Any) -> None:
    application = issued_case(users)
    permit = permit_of(application)
    path = _verify_path(permit)
    admin = login_as(users["admin"])
    listed = admin.get("/admin/permits")
    assert listed.status_code == 200 and permit.number in listed.get_data(as_text=True)
    refused = admin.post(f"/admin/permits/{permit.number}/revoke", data={"reason": ""})
    assert refused.status_code == 422 and "Say why the permit is revoked." in _text(refused)
    done = admin.post(f"/admin/permits/{permit.number}/revoke", data={"reason": "Left the employer"})
    assert done.status_code == 302
    assert "revoked" in _text(admin.get(done.headers["Location"]))
    page = _text(admin.get(path))
    assert "Revoked permit." in page and "no longer valid" in page
    status = login_as(users["applicant"]).get(f"/applications/{application.reference}")
    assert 'data-testid="permit-revoked"' in status.get_data(as_text=True)
    admin = login_as(users["admin"])

    other = permit_of(issued_case(users))
    clock.set(datetime.combine(other.valid_until, datetime.min.time(), issuance.JAKARTA) + timedelta(days=1))
    page = _text(admin.get(_verify_path(other)))
    assert "Expired permit." in page and "This KITAS expired on 4 January 2027." in page


def test_only_admins_revoke(worker: int, users: dict[str, Any], login_as: Any) -> None:
    permit = permit_of(issued_case(users))
    response = login_as(users["supervisor"]).post(f"/admin/permits/{permit.number}/revoke", data={"reason": "x"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Permit, permit.id).revoked_at is None  # type: ignore[union-attr]


def test_forged_altered_and_random_tokens_are_refused(worker: int, users: dict[str, Any], client: FlaskClient) -> None:
    permit = permit_of(issued_case(users))
    token = tokens.sign(permit.token_id)
    middle = len(token) // 3
    altered = token[:middle] + ("1" if token[middle] != "1" else "2") + token[middle + 1 :]
    for bad in (
        altered,
        token[:-1] + ("a" if token[-1] != "a" else "b"),
        f"{permit.token_id}.{'f' * 64}",
        tokens.sign(tokens.new_token_id()),
        "random-guess",
    ):
        response = client.get(f"/verify/{bad}")
        assert response.status_code == 404, bad
        assert "This is not a valid permit code." in _text(response)
        assert client.get(f"/verify/{bad}/photo.jpg").status_code == 404
    assert client.get(f"/verify/{token}").status_code == 200


def test_too_many_lookups_get_a_429_that_says_when(
    worker: int, users: dict[str, Any], client: FlaskClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "KITAS_VERIFY_MAX_PER_ADDRESS", 2)
    path = _verify_path(permit_of(issued_case(users)))
    assert [client.get(path).status_code for _ in range(2)] == [200, 200]
    limited = client.get(path)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) == 600
    assert "Try again after" in _text(limited)
    # Another address is not held back.
    assert client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.50"}).status_code == 200


def test_the_verification_page_in_both_languages_and_its_switch(
    worker: int, users: dict[str, Any], client: FlaskClient
) -> None:
    path = _verify_path(permit_of(issued_case(users)))
    page = client.get(path, headers=IN_INDONESIAN)
    assert '<html lang="id">' in page.get_data(as_text=True)
    text = _text(page)
    assert "Izin sah." in text and "KITAS ini berlaku hari ini." in text and "Berlaku sampai" in text
    _next_request()
    refused = _text(client.get("/verify/nope", headers=IN_INDONESIAN))
    assert "Ini bukan kode izin yang sah." in refused
    _next_request()
    switched = client.post("/language", data={"language": "id"}, headers={"Referer": f"http://localhost{path}"})
    assert switched.status_code == 302 and switched.headers["Location"] == path
    _next_request()
    assert "Izin sah." in _text(client.get(path))
    _next_request()
    client.post("/language", data={"language": "en"}, headers={"Referer": f"http://localhost{path}"})
    _next_request()
    assert "Valid permit." in _text(client.get(path))


def test_the_permit_in_indonesian_for_an_indonesian_speaking_holder(worker: int, users: dict[str, Any]) -> None:
    users["applicant"].language = "id"
    db.session.commit()
    application = issued_case(users)
    data = downloads.permit_pdf(application.reference, users["applicant"]).data
    assert qr_codes(data) == [downloads.verify_url(permit_of(application))]
