"""The e-permit through the services: created once when a case is issued, its dates, its PDF and QR
code, the public verification (signed tokens, states, rate limit, log) and revocation."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import AuditEvent, Notification, Permit, PermitCheck
from kitas.services.errors import Conflict, InvalidInput, NotFound, ServiceError
from kitas.services.permits import downloads, issuance, revocation, tokens, verification
from tests.permit_cases import issued_case, permit_of
from tests.permit_pdf import pdf_text, qr_codes
from tests.services.helpers import start_until_verification
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA

ADDRESS = "198.51.100.7"


def test_the_issuing_step_creates_the_permit_once_with_the_case_data(
    worker: int, users: dict[str, Any], clock: Any
) -> None:
    clock.set(datetime.fromisoformat("2026-01-05T18:30:00+00:00"))  # already 6 January in Jakarta
    application = issued_case(users)
    assert application.status == "permit_issued"
    [permit] = db.session.scalars(select(Permit)).all()
    assert permit.application_id == application.id and permit.holder_id == users["applicant"].id
    assert (permit.holder_name, permit.nationality, permit.date_of_birth) == ("Ana Lima", "BR", date(1990, 4, 2))
    assert (permit.kitas_type, permit.index_code) == ("worker", "E23")
    assert permit.sponsor == EMPLOYMENT_DATA["employer_name"]
    assert (
        permit.office == "Kantor Imigrasi Kelas I Khusus TPI Jakarta Selatan"
    )  # the office of the booked slot: the case's
    # 12 months from the issue day in Jakarta, less one day.
    assert (permit.valid_from, permit.valid_until) == (date(2026, 1, 6), date(2027, 1, 5))
    assert re.fullmatch(r"E23-2026-P[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", permit.number), permit.number
    [audited] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permit_issued")).all()
    assert audited.application_id == application.id and audited.detail["permit"] == permit.number
    # Issuing again (a retried hook) finds the same permit; the table allows one per case.
    again, created = issuance.issue_for_case(application, {"duration_months": 6}, clock.now())
    assert again.id == permit.id and not created
    assert db.session.scalar(select(func.count(Permit.id))) == 1


def test_the_permit_issued_message_links_to_the_download(worker: int, users: dict[str, Any]) -> None:
    application = issued_case(users)
    rows = db.session.scalars(
        select(Notification).where(Notification.application_id == application.id, Notification.template.isnot(None))
    ).all()
    issued = [row for row in rows if '"permit_issued"' in (row.body or "")]
    assert {row.channel for row in issued} == {"in_app", "email"}  # the test user has no phone: no SMS
    assert {row.link for row in issued} == {f"/applications/{application.reference}/permit.pdf"}


def test_other_cases_have_no_permit(worker: int, users: dict[str, Any]) -> None:
    application = start_until_verification(users)
    assert issuance.permit_of_case(application.id) is None
    assert downloads.permit_for(application.reference, users["applicant"]) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"duration_months": 6}, date(2026, 7, 30)),
        ({"duration_months": 24}, date(2028, 1, 30)),
        # A student's permit ends with the study; every permit with the passport.
        ({"duration_months": 24, "study_end": "2027-06-30"}, date(2027, 6, 30)),
        ({"duration_months": 12, "passport_expiry": "2026-11-15"}, date(2026, 11, 15)),
        ({"duration_months": 12, "passport_expiry": "2030-01-31", "study_end": "2029-01-01"}, date(2027, 1, 30)),
    ],
)
def test_validity_follows_the_duration_and_stops_at_study_end_and_passport(
    ctx: Any, data: dict[str, Any], expected: date
) -> None:
    start, until = issuance.validity(datetime.fromisoformat("2026-01-31T03:00:00+00:00"), data)
    assert (start, until) == (date(2026, 1, 31), expected)


def test_month_ends_are_kept_within_the_month(ctx: Any) -> None:
    assert issuance.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert issuance.add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert issuance.add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)


@pytest.mark.parametrize(
    "data",
    [{}, {"duration_months": 0}, {"duration_months": "12"}, {"duration_months": 12, "passport_expiry": "2026-01-01"}],
)
def test_no_permit_without_a_length_or_after_the_passport(ctx: Any, data: dict[str, Any]) -> None:
    with pytest.raises(ServiceError):
        issuance.validity(datetime.fromisoformat("2026-01-31T03:00:00+00:00"), data)


def test_the_pdf_is_the_holders_and_the_officers_and_nobody_elses(worker: int, users: dict[str, Any]) -> None:
    application = issued_case(users, photo=True)
    permit = permit_of(application)
    mine = downloads.permit_pdf(application.reference, users["applicant"])
    assert mine.data.startswith(b"%PDF-") and mine.name == f"KITAS-{permit.number}.pdf"
    text = pdf_text(mine.data)
    for words in (
        permit.number,
        "Ana Lima",
        "Brazil",
        "Work KITAS (E23)",
        EMPLOYMENT_DATA["employer_name"],
        "Kantor Imigrasi Kelas I Khusus TPI Jakarta Selatan",
        "Valid until",
    ):
        assert words in text, f"{words!r} not on the permit:\n{text}"
    assert APPLICANT_DATA["passport_number"] not in text
    assert qr_codes(mine.data) == [downloads.verify_url(permit)]
    assert downloads.permit_pdf(application.reference, users["verifier"]).data.startswith(b"%PDF-")
    for intruder in (users["other_applicant"], users["sponsor"]):
        with pytest.raises(NotFound):
            downloads.permit_pdf(application.reference, intruder)
    refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert {row.actor_id for row in refusals} == {users["other_applicant"].id, users["sponsor"].id}
    downloaded = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permit_downloaded")).all()
    assert [row.actor_id for row in downloaded] == [users["applicant"].id, users["verifier"].id]


def test_the_pdf_is_in_the_holders_language(worker: int, users: dict[str, Any]) -> None:
    users["applicant"].language = "id"
    db.session.commit()
    application = issued_case(users)
    # An officer downloads it: still the holder's language.
    text = pdf_text(downloads.permit_pdf(application.reference, users["verifier"]).data)
    assert (
        "Berlaku sampai" in text and "Kantor Imigrasi Kelas I Khusus TPI Jakarta Selatan" in text and "Brasil" in text
    )
    assert "Valid until" not in text
    assert "Tidak ada foto" in text  # no photo was uploaded: a clear placeholder


def test_a_genuine_token_reads_and_any_changed_character_is_refused(ctx: Any) -> None:
    token_id = tokens.new_token_id()
    token = tokens.sign(token_id)
    assert tokens.read(token) == token_id
    for position, character in enumerate(token):
        for other in {"0", "f", "a", "."} - {character}:
            altered = token[:position] + other + token[position + 1 :]
            assert tokens.read(altered) is None, f"changed at {position}: {altered}"
    assert tokens.read(token.upper()) is None and tokens.read(token + "0") is None and tokens.read(token[:-1]) is None
    forged = f"{token_id}.{'0' * 64}"
    assert tokens.read(forged) is None and tokens.read("") is None and tokens.read(tokens.new_token_id()) is None


def test_verification_shows_valid_then_revoked_and_logs_every_lookup(worker: int, users: dict[str, Any]) -> None:
    application = issued_case(users, photo=True)
    permit = permit_of(application)
    token = tokens.sign(permit.token_id)
    status = verification.check_permit(token, ADDRESS, "en")
    assert (status.state, status.type_name, status.index_code) == ("valid", "Work KITAS", "E23")
    assert (status.valid_from, status.valid_until) == (permit.valid_from, permit.valid_until)
    assert status.masked_name == "A** L***" and status.has_photo
    assert verification.permit_thumbnail(token, ADDRESS).startswith(b"\xff\xd8")
    with pytest.raises(InvalidInput):
        revocation.revoke(permit.number, users["admin"], "   ")
    revocation.revoke(permit.number, users["admin"], "Employment ended")
    with pytest.raises(Conflict):
        revocation.revoke(permit.number, users["admin"], "again")
    assert verification.check_permit(token, ADDRESS, "en").state == "revoked"
    [row] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permit_revoked")).all()
    assert row.actor_id == users["admin"].id and row.detail["reason"] == "Employment ended"
    checks = db.session.scalars(select(PermitCheck).order_by(PermitCheck.id)).all()
    assert [(c.permit_id, c.address, c.outcome) for c in checks] == [
        (permit.id, ADDRESS, "valid"),
        (permit.id, ADDRESS, "revoked"),
    ]


def test_an_expired_permit_says_so(worker: int, users: dict[str, Any], clock: Any) -> None:
    application = issued_case(users)
    permit = permit_of(application)
    clock.set(datetime.combine(permit.valid_until, datetime.min.time(), issuance.JAKARTA) + timedelta(hours=23))
    assert verification.check_permit(tokens.sign(permit.token_id), ADDRESS, "en").state == "valid"
    clock.advance(hours=1)
    assert verification.check_permit(tokens.sign(permit.token_id), ADDRESS, "en").state == "expired"


def test_forged_and_unknown_tokens_are_refused_and_logged(worker: int, users: dict[str, Any]) -> None:
    permit = permit_of(issued_case(users))
    token = tokens.sign(permit.token_id)
    for bad in (token[:-1] + ("0" if token[-1] != "0" else "1"), tokens.sign(tokens.new_token_id()), "x" * 97):
        with pytest.raises(verification.NotAPermit):
            verification.check_permit(bad, ADDRESS, "en")
    outcomes = db.session.scalars(select(PermitCheck.outcome)).all()
    assert outcomes == ["refused"] * 3


def test_lookups_are_limited_per_address_and_say_when_to_try_again(
    worker: int, users: dict[str, Any], app: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "KITAS_VERIFY_MAX_PER_ADDRESS", 3)
    monkeypatch.setitem(app.config, "KITAS_VERIFY_WINDOW_MINUTES", 10)
    token = tokens.sign(permit_of(issued_case(users)).token_id)
    first = clock.now()
    verification.check_permit(token, ADDRESS, "en")
    clock.advance(minutes=1)
    verification.check_permit(token, ADDRESS, "en")
    verification.check_permit(token, ADDRESS, "en")
    with pytest.raises(verification.TooManyChecks) as limited:
        verification.check_permit(token, ADDRESS, "en")
    assert limited.value.retry_at == first + timedelta(minutes=10)
    with pytest.raises(verification.TooManyChecks):
        verification.permit_thumbnail(token, ADDRESS)
    assert verification.check_permit(token, "203.0.113.9", "en").state == "valid"  # another address is not held
    clock.set(first + timedelta(minutes=10, seconds=1))
    assert verification.check_permit(token, ADDRESS, "en").state == "valid"
    limited_rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permit_checks_limited")).all()
    assert len(limited_rows) == 1
    assert db.session.scalar(select(func.count(PermitCheck.id)).where(PermitCheck.address == ADDRESS)) == 4


def test_the_admin_list_finds_a_permit_by_its_number(worker: int, users: dict[str, Any]) -> None:
    permit = permit_of(issued_case(users))
    assert [row.permit.id for row in revocation.recent_permits()] == [permit.id]
    assert [row.state for row in revocation.recent_permits(permit.number[:12].lower())] == ["valid"]
    assert revocation.recent_permits("E23-1999") == []


def test_an_erased_holders_permit_keeps_its_validity_without_their_data(worker: int, users: dict[str, Any]) -> None:
    from kitas.services.accounts import privacy
    from kitas.transactions import write_transaction

    permit = permit_of(issued_case(users))
    [exported] = privacy.export_data(users["applicant"].id, ADDRESS)["permits"]
    assert (exported["number"], exported["holder_name"], exported["valid_until"]) == (
        permit.number,
        "Ana Lima",
        permit.valid_until.isoformat(),
    )
    with write_transaction():
        assert issuance.erase_holder(users["applicant"].id) == 1
    db.session.expire_all()
    erased = db.session.get(Permit, permit.id)
    assert erased is not None and (erased.holder_name, erased.nationality, erased.date_of_birth) == ("", "", None)
    status = verification.check_permit(tokens.sign(permit.token_id), ADDRESS, "en")
    assert (status.state, status.masked_name) == ("valid", "—")


def test_a_type_without_a_sponsor_has_none_on_its_permit(ctx: Any) -> None:
    """The investor's case names the company invested in; that company is not the holder's sponsor."""
    from kitas.services.permits.issuance import _sponsor

    assert _sponsor("investor", {"company_name": "PT Maju Bersama"}) is None
    assert _sponsor("worker", {"employer_name": "PT Maju Bersama"}) == "PT Maju Bersama"
    assert _sponsor("student", {"institution_name": " Universitas Indonesia "}) == "Universitas Indonesia"
