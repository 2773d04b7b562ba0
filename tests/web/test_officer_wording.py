"""Officer pages speak to officers (Indonesian by default, English when chosen), and a case's history tells
every event in words: the payment provider by name, documents by their catalog names, people by name and
role, the scheduler and its deadlines, in both languages."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from kitas.adapters import sandbox_provider
from kitas.extensions import app_clock, db
from kitas.models import SandboxWebhook
from kitas.services import cases, payments, sandbox_bank
from kitas.services.cases import timers
from tests.services.helpers import complete
from tests.web.pages import confirm_answers, good_documents, open_task_row, post_form, task_url

pytestmark = pytest.mark.usefixtures("worker")

# Words that speak to the applicant (or the sponsor) about themselves; an officer's page never says them.
APPLICANT_WORDS = {
    "en": [
        "Your decision",
        "What you corrected",
        "Correct your application",
        "your application",
        "your passport",
        "your documents",
        "We confirm",
        "We decline",
        "your dashboard",
        "Your sponsor",
        "Upload documents</div>",  # the applicant's form heading as a section title
    ],
    "id": [
        "Keputusan Anda",
        "Yang Anda perbaiki",
        "Perbaiki permohonan Anda",
        "permohonan Anda",
        "paspor Anda",
        "dokumen Anda",
        "Kami mengonfirmasi",
        "Kami menolak",
        "Penjamin Anda",
        "dasbor",
        "Unggah dokumen</div>",
    ],
}
# Ids as the history used to show them (case-sensitive: "RPTKA approval" is the document's name).
RAW_IDS = [
    "payment:sandbox",
    "process kitas_worker",
    "proses kitas_worker",
    "(rptka approval)",
    "(passport scan)",
    "scheduler test",
    "verify_documents",
]


def _main(response: Any) -> str:
    """The page's own content (the layout's menu is the same on every page)."""
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _readable(page: str) -> str:
    """What a person reads of a page: its text and the labels a screen reader says, not its markup (a filter's
    option may carry an element id as its value)."""
    labels = " ".join(re.findall(r'(?:aria-label|title|alt|placeholder)="([^"]*)"', page))
    return unescape(re.sub(r"<[^>]+>", " ", page)) + " " + labels


def _worked_case(users: dict[str, Any], login_as: Any, clock: Any) -> Any:
    """A worker case with uploads, paid at the sandbox bank, sent back for corrections once, corrected, and
    whose verification deadline passed (escalated): every party and the scheduler have acted on it."""
    application = cases.start_case("worker", users["applicant"])
    for element_id, user in (("applicant_data", "applicant"), ("employment_data", "applicant")):
        complete(application.id, element_id, users[user])
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    client = login_as(users["applicant"])
    assert post_form(client, task_url(application, "document_checklist"), good_documents()).status_code == 302
    confirm_answers(client, application, "document_checklist")
    view = payments.billing_for(application.reference, users["applicant"])
    assert view.billing_code is not None and view.amount is not None
    sandbox_bank.pay(view.billing_code, view.amount)
    notice = db.session.scalars(select(SandboxWebhook).order_by(SandboxWebhook.id.desc())).first()
    assert notice is not None  # the provider's signed notice, as it would POST it to the webhook
    body = notice.body.encode()
    signature = sandbox_provider.sign(body, "test-webhook-secret", int(app_clock().now().timestamp()))
    outcome = payments.handle_webhook("sandbox", body, {"X-Sandbox-Signature": signature})
    assert outcome == payments.ACCEPTED
    db.session.expire_all()
    verifier = login_as(users["verifier"])
    task = open_task_row(application.id, "verify_documents")
    verifier.post(f"/officer/cases/{application.reference}/tasks/{task.task_id}/claim")
    reason = {"verification_decision": "corrections", "verification_reason": "The RPTKA scan is unreadable."}
    assert post_form(verifier, task_url(application, "verify_documents", "/officer"), reason).status_code == 302
    complete(application.id, "submit_corrections", users["applicant"])
    clock.advance(days=6)
    timers.fire_due_timers("test")
    return application


@pytest.fixture()
def worked(users: dict[str, Any], login_as: Any, clock: Any) -> Any:
    """The case of ``_worked_case``, waiting in its second verification round."""
    return _worked_case(users, login_as, clock)


def _officer_pages(client: FlaskClient, application: Any) -> dict[str, str]:
    reference = application.reference
    task = open_task_row(application.id, "verify_documents")
    return {
        "inbox": _main(client.get("/officer/")),
        "task": _main(client.get(f"/officer/cases/{reference}/tasks/{task.task_id}")),
        "case": _main(client.get(f"/officer/cases/{reference}")),
    }


def _indonesian_browser(client: FlaskClient) -> FlaskClient:
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    return client


def test_officer_pages_are_indonesian_by_default_and_english_when_chosen(
    worked: Any, users: dict[str, Any], login_as: Any
) -> None:
    officer = users["verifier"]
    officer.language = None
    db.session.commit()
    client = _indonesian_browser(login_as(officer))
    pages = _officer_pages(client, worked)
    assert "Kotak tugas" in pages["inbox"] and "Verifikasi dokumen" in pages["inbox"]
    assert "Jawaban pemohon" in pages["task"] and "Dokumen yang diserahkan" in pages["task"]
    assert "Keputusan" in pages["task"] and "Riwayat" in pages["case"]
    assert "Applicant's answers" not in pages["task"] and "History" not in pages["case"]
    client.post("/language", data={"language": "en"}, headers={"Referer": "/officer/"})
    english = _officer_pages(client, worked)
    assert "Task inbox" in english["inbox"] and "Verify documents" in english["inbox"]
    assert "Applicant's answers" in english["task"] and "Documents submitted" in english["task"]
    assert "Jawaban pemohon" not in english["task"] and "Riwayat" not in english["case"]


@pytest.mark.parametrize("language", ["en", "id"])
def test_no_applicant_facing_words_on_officer_pages(
    worked: Any, users: dict[str, Any], login_as: Any, language: str
) -> None:
    for person in ("verifier", "admin"):
        users[person].language = language
    db.session.commit()
    pages = _officer_pages(login_as(users["verifier"]), worked)
    pages["admin case"] = _main(login_as(users["admin"]).get(f"/admin/cases/{worked.reference}"))
    for name, page in pages.items():
        text = _readable(page)
        for words in APPLICANT_WORDS[language]:
            assert words.casefold() not in text.casefold(), f"the officer's {name} page says {words!r}"
        for raw in RAW_IDS:
            assert raw not in text, f"the officer's {name} page shows {raw!r}"
    readable_case = _readable(pages["case"])
    assert not re.search(r"\b(verify_documents|verify_sla|submit_corrections|rptka_approval)\b", readable_case)


def test_the_people_who_fill_the_forms_keep_their_own_words(users: dict[str, Any], login_as: Any) -> None:
    """The sponsor's form still says "Your decision" to the sponsor (so the check above is not blind to it),
    and the officer's form keeps its own heading and choices."""
    application = cases.start_case("worker", users["applicant"])
    for element_id in ("applicant_data", "employment_data"):
        complete(application.id, element_id, users["applicant"])
    page = _main(login_as(users["sponsor"]).get(task_url(application, "sponsor_confirmation", "/sponsor")))
    assert "Your decision" in page and "We confirm: we sponsor this worker" in page
    assert "Sponsor's decision" not in page


HISTORY = {
    "en": [
        "Application started — Ana Applicant (applicant)",
        "Confirm sponsorship: done — PT Employer HR (sponsor)",
        "Document uploaded: RPTKA approval",
        "Billing code",
        "issued by the sandbox bank (a simulation) for Rp ",
        "Payment of Rp 1.700.000 confirmed for billing code",
        "— the sandbox bank (a simulation)",
        "Payment received — the sandbox bank (a simulation)",
        "Task claimed: Verify documents — Vera Verifier (verifier)",
        "Verify documents: done — Vera Verifier (verifier)",
        "Submit corrections: done — Ana Applicant (applicant)",
        "Escalated to a supervisor: Verification SLA (5 days) — the scheduler",
        "Now with a verifier: Verify documents",
    ],
    "id": [
        "Permohonan dimulai — Ana Applicant (pemohon)",
        "Konfirmasi penjaminan: selesai — PT Employer HR (penjamin)",
        "Dokumen diunggah: Pengesahan RPTKA",
        "Kode billing",
        "diterbitkan oleh bank sandbox (simulasi) sebesar Rp ",
        "Pembayaran sebesar Rp 1.700.000 dikonfirmasi untuk kode billing",
        "— bank sandbox (simulasi)",
        "Pembayaran diterima — bank sandbox (simulasi)",
        "Tugas diambil: Verifikasi dokumen — Vera Verifier (verifikator)",
        "Verifikasi dokumen: selesai — Vera Verifier (verifikator)",
        "Kirim perbaikan: selesai — Ana Applicant (pemohon)",
        "Dieskalasi ke supervisor: Batas waktu verifikasi (5 hari) — penjadwal",
        "Sekarang pada verifikator: Verifikasi dokumen",
    ],
}


def _history_lines(page: str) -> list[str]:
    timeline = page.split('data-testid="timeline"', 1)[1].split("</ul>", 1)[0]
    lines = []
    for item in re.findall(r"<li[^>]*>(.*?)</li>", timeline, flags=re.S):
        text = re.sub(r"<div.*?</div>", "", item, flags=re.S)
        lines.append(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip())
    return lines


@pytest.mark.parametrize("language", ["en", "id"])
def test_history_tells_payment_documents_timers_sponsor_and_officers_in_words(
    worked: Any, users: dict[str, Any], login_as: Any, language: str
) -> None:
    users["supervisor"].language = language
    db.session.commit()
    page = _main(login_as(users["supervisor"]).get(f"/officer/cases/{worked.reference}"))
    lines = _history_lines(page)
    text = "\n".join(lines)
    for expected in HISTORY[language]:
        assert expected in text, f"{expected!r} not in the history:\n{text}"
    assert "payment:" not in text and "scheduler test" not in text and "<" not in text
    assert not re.search(r"[a-z]+_[a-z]+", text), text  # no element id, document key or event kind


def test_the_applicant_reads_her_history_in_her_own_words(worked: Any, users: dict[str, Any], login_as: Any) -> None:
    page = login_as(users["applicant"]).get(f"/applications/{worked.reference}").get_data(as_text=True)
    assert "Payment received" in page and "the sandbox bank (a simulation)" in page
    assert "Vera Verifier" not in page and "an immigration officer" in page
    assert "Task claimed" not in page and "Document uploaded" not in page
