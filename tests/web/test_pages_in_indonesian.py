"""The pages in Bahasa Indonesia: the forms' texts from their translations, task names and status words."""

from __future__ import annotations

from typing import Any

import pytest
from flask_babel import refresh

from kitas.extensions import db
from tests.services.helpers import start_until_verification
from tests.web.pages import start_worker_case, task_url, verified

pytestmark = pytest.mark.usefixtures("worker")
INDONESIAN = {"Accept-Language": "id"}


def read(client: Any, url: str, headers: dict[str, str] | None = None) -> str:
    """A page as text; the tests' requests share one application context, where Flask-Babel keeps
    the language it chose, so each page chooses again."""
    refresh()
    return str(client.get(url, headers=headers or {}).get_data(as_text=True))


@pytest.fixture()
def applicant(users: dict[str, Any], login_as: Any) -> Any:
    """The signed-in applicant's client; without a language setting, the browser's language decides."""
    users["applicant"].language = None
    db.session.commit()
    verified(users["applicant"])
    return login_as(users["applicant"])


def test_the_applicants_task_page_in_indonesian(applicant: Any, users: dict[str, Any]) -> None:
    application = start_worker_case(applicant, users["applicant"])
    page = read(applicant, task_url(application, "applicant_data"), INDONESIAN)
    assert "Data pemohon" in page  # the form's title
    assert "Nama lengkap" in page and "Nomor paspor" in page  # field labels
    assert "Sesuai dengan yang tercetak di paspor Anda." in page  # a field's description
    assert "Negara penerbit paspor Anda." in page  # the UI schema's help
    assert "Simpan dan lanjutkan" in page  # its button
    assert "Isi data pemohon" in page  # the task's name
    assert "Applicant details" not in page and "Full name" not in page
    english = read(applicant, task_url(application, "applicant_data"))
    assert "Applicant details" in english and "Full name" in english


def test_status_words_in_indonesian(applicant: Any, users: dict[str, Any]) -> None:
    application = start_worker_case(applicant, users["applicant"])
    dashboard = read(applicant, "/applications/", INDONESIAN)
    assert 'data-testid="status">Draf<' in dashboard
    assert "ITAS Bekerja (E23)" in dashboard and "Isi data pemohon" in dashboard
    status = read(applicant, f"/applications/{application.reference}", INDONESIAN)
    assert "Lengkapi langkah-langkah permohonan Anda yang tersisa." in status
    assert 'data-testid="status">Draft<' in read(applicant, "/applications/")


def test_the_officers_inbox_and_task_in_indonesian(users: dict[str, Any], login_as: Any) -> None:
    application = start_until_verification(users)
    users["verifier"].language = "id"  # an officer's own setting
    db.session.commit()
    client = login_as(users["verifier"])
    inbox = read(client, "/officer/")
    assert "Verifikasi dokumen" in inbox and "ITAS Bekerja (E23)" in inbox
    page = read(client, task_url(application, "verify_documents", "/officer"))
    assert "Verifikasi dokumen" in page and "Setujui: dokumen lengkap dan benar" in page
    assert "Data pemohon" in page  # the applicant's answers under the Indonesian title of their form
    assert "Sudah dibayar, dalam verifikasi" in page  # the case's status


def test_the_catalog_pages_in_indonesian(client: Any) -> None:
    page = read(client, "/types/worker", INDONESIAN)
    assert "ITAS Bekerja" in page and "perusahaan terdaftar di Indonesia" in page and "Pengesahan RPTKA" in page
    assert "Work KITAS" in read(client, "/types/worker")
