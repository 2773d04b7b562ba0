"""The pages in Bahasa Indonesia: a browser that asks for it, or an account set to it, reads every page in
Indonesian, and the language switch on every page changes the language and stays on the same page."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import g
from flask.testing import FlaskClient

from kitas.extensions import db
from tests.services.helpers import start_until_verification
from tests.web.pages import verified

IN_INDONESIAN = {"Accept-Language": "id"}


def _text(response: Any) -> str:
    """A page as the words people read (tags dropped, entities decoded)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _in_indonesian(response: Any) -> str:
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    return _text(response)


def _next_request() -> None:
    """Requests reuse the test's application context, so Flask-Babel's per-context cache of the language
    (and zone) would otherwise outlive the switch (each real request has its own context)."""
    g.pop("_flask_babel", None)


def _speaks_indonesian(user: Any) -> None:
    user.language = "id"
    db.session.commit()


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/", ["Ajukan izin tinggal terbatas Indonesia Anda secara daring", "Jenis izin", "Persyaratan", "Buat akun"]),
        ("/types", ["Jenis KITAS", "ITAS Bekerja", "Biaya", "belum daring", "KITAS mana yang saya perlukan?"]),
        ("/types/worker", ["Dokumen yang diunggah", "Langkah-langkah", "Kode indeks", "Penjamin", "Biaya"]),
        ("/guide", ["KITAS mana yang saya perlukan?", "Apa tujuan Anda datang ke Indonesia?", "Untuk belajar"]),
        ("/faq", ["Pertanyaan yang sering diajukan", "Berapa biayanya?", "hari kerja"]),
        ("/auth/login", ["Alamat e-mail", "Kata sandi", "Lupa kata sandi?", "Belum punya akun?"]),
        ("/auth/register", ["Buat akun", "Nama lengkap", "Kewarganegaraan", "Filipina", "Buat akun saya"]),
        ("/auth/forgot", ["Lupa kata sandi?", "Kirimi saya tautan atur ulang"]),
        ("/no-such-page", ["Halaman tidak ditemukan", "Halaman ini tidak ada", "Kesalahan 404."]),
    ],
)
def test_public_pages_in_indonesian(client: FlaskClient, path: str, words: list[str]) -> None:
    response = client.get(path, headers=IN_INDONESIAN)
    assert response.status_code in (200, 404)
    text = _in_indonesian(response)
    for word in words:
        assert word in text, (path, word)
    # The layout too: the demo banner, the navigation and the footer.
    assert "Pembayaran demo" in text and "waktu ditampilkan dalam Waktu Indonesia Barat (WIB)" in text
    assert "Sign in" not in text and "Create an account" not in text


def test_register_errors_in_indonesian(client: FlaskClient) -> None:
    response = client.post("/auth/register", data={"kind": "applicant"}, headers=IN_INDONESIAN)
    assert response.status_code == 422
    text = _in_indonesian(response)
    assert "Formulir memiliki" in text and "Tidak ada yang disimpan" in text


def test_a_page_that_needs_signing_in_says_so_in_indonesian(client: FlaskClient) -> None:
    response = client.get("/applications/", headers=IN_INDONESIAN, follow_redirects=True)
    assert "Silakan masuk untuk melihat halaman ini." in _in_indonesian(response)


def test_the_applicant_dashboard_in_the_account_language(worker: int, users: dict[str, Any], login_as: Any) -> None:
    applicant = users["applicant"]
    verified(applicant)
    _speaks_indonesian(applicant)
    # The account's language wins over the browser's English.
    text = _in_indonesian(login_as(applicant).get("/applications/"))
    assert "Permohonan saya" in text and "Mulai permohonan baru" in text and "Anda belum memiliki permohonan." in text
    assert "ITAS Bekerja" in text and "persyaratan" in text
    assert "My applications" not in text and "Start a new application" not in text


@pytest.mark.usefixtures("worker")
def test_the_officer_inbox_in_indonesian(users: dict[str, Any], login_as: Any) -> None:
    case = start_until_verification(users)
    verifier = users["verifier"]
    _speaks_indonesian(verifier)
    text = _in_indonesian(login_as(verifier).get("/officer/"))
    assert "Kotak tugas" in text and "Diambil oleh saya" in text and "Belum diambil" in text
    assert "Pemohon" in text and "Menunggu sejak" in text and "Terlama dahulu" in text and case.reference in text
    assert "Cari: nomor registrasi, nomor paspor, atau nama" in text and "Jenis KITAS" in text
    assert "Claimed by me" not in text and "Waiting since" not in text and "Oldest first" not in text


def test_the_role_refusal_in_indonesian(users: dict[str, Any], login_as: Any) -> None:
    _speaks_indonesian(users["analyst"])
    response = login_as(users["analyst"]).get("/officer/")
    assert response.status_code == 403
    text = _in_indonesian(response)
    assert "Halaman ini untuk peran: verifikator, supervisor, administrator." in text and "Tidak diizinkan" in text


def test_the_expired_form_page_in_indonesian(client: FlaskClient, csrf_on: None) -> None:
    response = client.post("/auth/login", data={"email": "a@example.org"}, headers=IN_INDONESIAN)
    assert response.status_code == 400
    text = _in_indonesian(response)
    assert "Formulir kedaluwarsa" in text and "muat ulang halaman" in text


def test_the_language_switch_changes_the_language_and_returns_to_the_page(client: FlaskClient) -> None:
    assert '<html lang="en">' in client.get("/types").get_data(as_text=True)
    switched = client.post("/language", data={"language": "id"}, headers={"Referer": "http://localhost/types?x=1"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/types?x=1"
    _next_request()
    text = _in_indonesian(client.get("/types"))
    assert "Jenis KITAS" in text and "English" in text  # the switch now offers English
    back = client.post("/language", data={"language": "en"}, headers={"Referer": "http://localhost/auth/login"})
    assert back.headers["Location"] == "/auth/login"
    _next_request()
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Forgot your password?" in page and "Bahasa Indonesia" in page


def test_a_signed_in_switch_is_kept_in_the_account(users: dict[str, Any], login_as: Any) -> None:
    client = login_as(users["applicant"])
    client.post("/language", data={"language": "id"}, headers={"Referer": "http://localhost/applications/"})
    db.session.expire_all()
    assert users["applicant"].language == "id"
    _next_request()
    assert "Permohonan saya" in _in_indonesian(client.get("/applications/"))
