"""Services refuse in two languages: each refusal is a Message (an id and its parameters) that the edge
translates, and no service puts an English sentence together itself (the scan at the end keeps it so)."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from forms.texts import Message
from kitas.extensions import app_clock
from kitas.i18n import in_language, local_time, translate
from kitas.services import accounts, payments
from kitas.services.cases.claims import claim_task
from kitas.services.documents.file_checks import UploadRejected, check_upload
from kitas.services.errors import Conflict, InvalidInput
from kitas.services.sandbox_bank import PaymentRefused, pay
from kitas.transactions import write_transaction
from tests.services.helpers import open_task, start_until_verification

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "kitas" / "services"
GOOD_PASSWORD = "correct horse battery staple"


def _indonesian(message: Any) -> str:
    assert isinstance(message, Message), f"{message!r} is not a Message"
    with force_locale("id"):
        text = translate(message)
    assert isinstance(text, str) and text != str(message), f"{message.msgid!r} has no Indonesian translation"
    return text


def test_a_bad_email_and_phone_at_registration_are_refused_in_indonesian(ctx: Flask) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.register(
            email="maria@@example",
            full_name="Maria Silva",
            password=GOOD_PASSWORD,
            password_confirm=GOOD_PASSWORD,
            phone="+62 0812 3456 7890",
            nationality="BR",
            kind="applicant",
            consent=True,
            address="203.0.113.9",
        )
    [email] = refused.value.errors["email"]
    [phone] = refused.value.errors["phone"]
    assert _indonesian(email).startswith("Bagian sebelum @")
    assert phone.params == {"prefix": "0", "code": 62, "right": "812", "wrong": "0812"}
    assert _indonesian(phone) == "Hilangkan 0 setelah +62: tulis +62 812..., bukan +62 0812...."
    assert _indonesian(refused.value.message) == "formulir memiliki 2 kesalahan; tidak ada yang disimpan"


def test_a_refused_upload_names_the_file_in_indonesian(ctx: Flask) -> None:
    with pytest.raises(UploadRejected) as refused:
        check_upload("paspor.docx", b"PK\x03\x04 not a pdf", 5 * 1024 * 1024)
    assert refused.value.message.params == {"extension": "docx", "name": "paspor.docx"}
    assert _indonesian(refused.value.message) == (
        "Berkas berjenis .docx tidak diterima (paspor.docx). Unggah berkas PDF, JPEG, atau PNG."
    )
    with pytest.raises(UploadRejected) as renamed:
        check_upload("paspor.pdf", b"PK\x03\x04 a zip", 5 * 1024 * 1024)
    # A Message parameter (what the content is) is translated with the sentence.
    assert "isinya arsip ZIP atau dokumen Office (Word, Excel)" in _indonesian(renamed.value.message)


def test_a_claim_conflict_names_the_officer_and_the_time_in_the_readers_zone(
    worker: int, users: dict[str, Any]
) -> None:
    application = start_until_verification(users)
    task_id = open_task(application.id, "verify_documents").task_id
    claimed = claim_task(application.reference, task_id, users["verifier"])
    with pytest.raises(Conflict) as lost:
        claim_task(application.reference, task_id, users["verifier2"])
    said = lost.value.message
    assert said.params["officer"] == users["verifier"].label and said.params["when"] == claimed.claimed_at
    with in_language("id", "Asia/Makassar"):
        when = local_time(claimed.claimed_at)
        assert translate(said) == f"{users['verifier'].label} telah mengambil tugas ini pada {when}"
    assert when.endswith("WITA")


def test_a_wrong_amount_at_the_sandbox_bank_is_refused_in_indonesian(ctx: Flask) -> None:
    with write_transaction():
        billing = payments.gateway().create_billing(
            "E23-2026-TESTCASE", "State fee", 1_700_000, app_clock().now() + timedelta(days=7), "http://kitas.test/"
        )
    with pytest.raises(PaymentRefused) as refused:
        pay(billing.code, 1_000_000)
    assert refused.value.message.params == {"amount": "Rp 1.700.000", "paid": "Rp 1.000.000"}
    assert _indonesian(refused.value.message) == (
        "Tagihan ini sebesar Rp 1.700.000, bukan Rp 1.000.000; bayarlah sesuai jumlah yang tepat."
    )


# --- no English sentence is put together in a service ----------------------------------------------

# Errors for programmers and operators (a broken invariant, a wrong setting), never shown on a page.
_NOT_FOR_PEOPLE = {
    "AssertionError",
    "ConfigurationError",
    "KeyError",
    "NotImplementedError",
    "RuntimeError",
    "StaleDataError",
    "TypeError",
    "ValueError",
}


# Files other helpers of this round are converting (catalog texts, deployments, e-mails); the lead takes
# them out of this list when their branches are merged.
_CONVERTED_ELSEWHERE: tuple[str, ...] = ()


def _is_sentence(node: ast.expr) -> bool:
    """A text written in place: an f-string, a str literal (not a one-word code), or text glued with +."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return not node.value.isidentifier()
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _is_sentence(node.left) or _is_sentence(node.right)
    return False


def _raised_texts(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        func = node.exc.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        # A private exception (_Broken, _Refusal) carries a reason for the operator's console or the audit
        # trail, never for a page.
        if name in _NOT_FOR_PEOPLE or name.startswith("_"):
            continue
        arguments = [*node.exc.args, *(keyword.value for keyword in node.exc.keywords)]
        found.extend(
            f"{where}:{node.lineno}: raise {name}({ast.unparse(argument)[:60]})"
            for argument in arguments
            if _is_sentence(argument)
        )
    return found


def test_services_raise_messages_never_english_sentences() -> None:
    paths = [
        p for p in sorted(SERVICES.rglob("*.py")) if not str(p.relative_to(SERVICES)).startswith(_CONVERTED_ELSEWHERE)
    ]
    found = [line for path in paths for line in _raised_texts(path)]
    assert not found, "raise a forms.texts.Message, not a sentence:\n" + "\n".join(found)


def test_the_scan_finds_what_it_is_meant_to(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    code = (
        "def f(x):\n"
        "    raise NotFound(f'there is no case {x}')\n"
        "def g():\n"
        "    raise Conflict('someone was first')\n"
        "def h():\n"
        "    raise PaymentRefused('typo', 'check the ' + 'code')\n"
        "def ok(x):\n"
        "    raise NotFound(Message('there is no case %(x)s', x=x))\n"
        "def code():\n"
        "    raise PaymentRefused('wrong_amount', Message('pay the exact amount'))\n"
        "def programmer():\n"
        "    raise ValueError(f'bad {1}')\n"
    )
    sample.write_text(code, encoding="utf-8")
    found = _raised_texts(sample)
    assert [line.split(": ", 1)[1].split("(")[0] for line in found] == [
        "raise NotFound",
        "raise Conflict",
        "raise PaymentRefused",
    ]
