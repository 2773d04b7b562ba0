"""The catalog, the forms, task names and status pages in Indonesian; English stays the default."""

from __future__ import annotations

from typing import Any

from kitas.extensions import db
from kitas.models import Application
from kitas.services import cases
from kitas.services import catalog as kitas_catalog
from kitas.services.cases import listings, taskforms, timeline
from kitas.services.cases.inbox import InboxQuery, officer_inbox
from tests.services.helpers import complete, open_task, start_until_verification


def test_the_catalog_in_indonesian() -> None:
    assert kitas_catalog.status_text("awaiting_payment").label == "Awaiting payment"  # English without a language
    paying = kitas_catalog.status_text("awaiting_payment", "id")
    assert (paying.label, paying.applicant_action) == ("Menunggu pembayaran", "Bayar biaya")
    assert paying.sms and paying.action_page == "payment"  # the rules are the same in every language
    assert kitas_catalog.status_text("in_verification", "en").label == "Paid, in verification"
    assert kitas_catalog.status_text("no_such_status", "id").label == "No such status"
    assert kitas_catalog.type_name("worker", "id") == "ITAS Bekerja (E23)"
    assert kitas_catalog.type_name("worker") == "Work KITAS (E23)"
    assert kitas_catalog.kitas_type("worker", "id").index_code == "E23"
    assert [d.name for d in kitas_catalog.documents("worker", "id")][:2] == [
        "Paspor (semua halaman yang bercap)",
        "Pas foto, latar belakang putih",
    ]
    assert kitas_catalog.sponsor_words("worker", "id") == "perusahaan pemberi kerja"
    assert kitas_catalog.message_text("payment_received", "id") == "Pembayaran diterima"


def test_the_sponsor_notice_in_both_languages() -> None:
    words = {"reference": "KITAS-2026-000001", "applicant": "Ana Applicant"}
    subject, body = kitas_catalog.sponsor_notice("awaiting_sponsor", words, "id") or ("", "")
    assert subject == "KITAS-2026-000001: mohon konfirmasi penjaminan Anda"
    assert body.startswith("Ana Applicant menunjuk Anda sebagai penjamin") and "(KITAS-2026-000001)" in body
    english = kitas_catalog.sponsor_notice("awaiting_sponsor", words)
    assert english is not None and english[0] == "KITAS-2026-000001: please confirm your guarantee"
    assert kitas_catalog.sponsor_notice("draft", words, "id") is None


def test_the_task_page_in_indonesian(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    task = open_task(application.id, "applicant_data")
    page = taskforms.open_task_page(application.reference, task.task_id, users["applicant"], "id")
    assert page.form is not None and page.form.title == "Data pemohon"
    assert page.form.field("full_name").title == "Nama lengkap"  # type: ignore[union-attr]
    assert page.task.name == "Isi data pemohon" and page.task.task_id == task.task_id
    assert open_task(application.id, "applicant_data").name == "Fill in applicant data"  # the row keeps English
    english = taskforms.open_task_page(application.reference, task.task_id, users["applicant"])
    assert english.form is not None and english.form.title == "Applicant details"
    assert english.task.name == "Fill in applicant data"


def test_the_sponsor_reads_the_applicants_answers_in_indonesian(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    task = open_task(application.id, "sponsor_confirmation")
    page = taskforms.open_task_page(application.reference, task.task_id, users["sponsor"], "id")
    assert page.form is not None and page.form.title == "Konfirmasi penjaminan"
    assert [s.title for s in page.sections] == ["Data pemohon", "Data pekerjaan"]
    assert "Nama lengkap" in [row.label for row in page.sections[0].rows]


def test_lists_and_status_in_indonesian(worker: int, users: dict[str, Any]) -> None:
    application = start_until_verification(users)
    inbox = officer_inbox(users["verifier"], InboxQuery(), language="id").page
    assert [(row.task.name, row.type_name, row.index_code) for row in inbox.items] == [
        ("Verifikasi dokumen", "ITAS Bekerja", "E23")
    ]
    assert officer_inbox(users["verifier"], InboxQuery()).page.items[0].task.name == "Verify documents"
    db.session.expire_all()
    case = db.session.get(Application, application.id)
    assert case is not None
    status = timeline.case_status(case, users["applicant"], "id")
    assert (status.label, status.explanation) == (
        "Sudah dibayar, dalam verifikasi",
        kitas_catalog.status_text("in_verification", "id").explanation,
    )
    assert status.journey[0] == ("Draf", "done")
    texts = [entry.text for entry in status.entries]
    assert "Pembayaran diterima" in texts
    assert any("Isi data pemohon" in text for text in texts)
    assert status.entries[-1].current and "Verifikasi dokumen" in status.entries[-1].text
    english = timeline.case_status(case, users["applicant"])
    assert english.label == "Paid, in verification" and "Payment received" in [e.text for e in english.entries]


def test_the_applicants_next_step_in_indonesian(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    rows = listings.my_applications(users["applicant"], language="id").items
    assert [(row.type_name, row.next_step.text if row.next_step else None) for row in rows] == [
        ("ITAS Bekerja (E23)", "Isi data pemohon")
    ]
    steps = listings.next_steps([application], "applicant")
    assert steps[application.id].text == "Fill in applicant data"
