"""Group applications: one case per person with the shared sponsor data, one confirmation, one payment,
bad lists refused with nothing written, and the individual sponsor's limit from the catalog."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kitas.adapters.payments import PROVIDERS_KEY
from kitas.adapters.sandbox_provider import sign
from kitas.extensions import app_clock, db
from kitas.models import Application, ApplicationGroup, AuditEvent, GroupBillItem, Payment, SandboxWebhook
from kitas.services import cases, groups, payments, sandbox_bank
from kitas.services.errors import InvalidInput, NotFound, ServiceError
from tests.factories import make_user
from tests.services.group_helpers import SeparateBillsOnly, group_post, people, person_sponsored, until_sponsor
from tests.services.helpers import complete


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _members(group: ApplicationGroup) -> list[Application]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Application).where(Application.group_id == group.id).order_by(Application.id))
    )


def _to_payment(group: ApplicationGroup, sponsor: Any) -> list[Application]:
    """Every member filled by the sponsor, confirmed once for all, documents given: all wait for payment."""
    members = _members(group)
    for index, application in enumerate(members):
        until_sponsor(application, sponsor, f"p{index + 1}@team.example.org")
    outcome = groups.confirm_group(group.reference, sponsor)
    assert sorted(outcome.confirmed) == sorted(a.reference for a in members) and outcome.refused == []
    for application in members:
        complete(application.id, "document_checklist", sponsor)
    members = _members(group)
    assert {a.status for a in members} == {"awaiting_payment"}
    return members


def test_a_group_starts_one_case_per_person_with_the_shared_sponsor_data(worker: int, users: dict[str, Any]) -> None:
    sponsor = users["sponsor"]
    group = groups.start_group("worker", sponsor, group_post(people(3)))
    members = _members(group)
    assert len(members) == 3
    for index, application in enumerate(members):
        data = cases.read_runtime(application).data
        assert application.applicant_id == sponsor.id and application.sponsor_email == sponsor.email
        assert application.sponsor_kind == "company" and application.status == "draft"
        assert data["employer_name"] == "PT Contoh Teknologi" and data["rptka_number"] == "RPTKA-2026-00042"
        assert (data["full_name"], data["email"], data["nationality"]) == (
            f"Person Number {index + 1}",
            f"p{index + 1}@team.example.org",
            "BR",
        )
    assert group.sponsor_data == {"employer_name": "PT Contoh Teknologi", "rptka_number": "RPTKA-2026-00042"}
    assert sorted(group.members.values()) == ["Person Number 1", "Person Number 2", "Person Number 3"]
    # The sponsor fills the members' steps on the applicant's pages.
    db.session.refresh(sponsor)
    assert sponsor.has_role("applicant")
    page = groups.group_page(group.reference, sponsor)
    assert page.members.total == 3 and [row.name for row in page.members.items] == list(group.members.values())
    assert {row.waits_for for row in page.members.items} == {"you"}


@pytest.mark.parametrize(
    ("rows", "key", "words"),
    [
        ([], "members", "at least one person"),
        (
            [
                {"full_name": "Ana Lima", "email": "same@team.example.org", "nationality": "BR"},
                {"full_name": "Bo Lima", "email": "SAME@team.example.org", "nationality": "BR"},
            ],
            "members.1.email",
            "already given in row 1",
        ),
        ([{"full_name": "Ana Lima", "email": "ana@@team", "nationality": "BR"}], "members.0.email", "email address"),
        (people(21), "members", "at most 20 people"),
    ],
    ids=["empty", "duplicate-email", "invalid-email", "too-many"],
)
def test_bad_lists_are_refused_with_the_reason_and_nothing_is_written(
    worker: int, users: dict[str, Any], rows: list[dict[str, str]], key: str, words: str
) -> None:
    with pytest.raises(groups.GroupRejected) as refused:
        groups.start_group("worker", users["sponsor"], group_post(rows))
    assert words in " ".join(str(m) for m in refused.value.errors[key])
    assert refused.value.form.values["members"] == rows  # what was typed comes back
    assert refused.value.form.values["employer_name"] == "PT Contoh Teknologi"
    assert _count(Application) == 0 and _count(ApplicationGroup) == 0


def test_another_sponsor_cannot_see_the_group(worker: int, users: dict[str, Any]) -> None:
    group = groups.start_group("worker", users["sponsor"], group_post(people(2)))
    other = make_user("sponsor", email="hr@other.co.id", confirmed=True)
    for look in (
        lambda: groups.group_page(group.reference, other),
        lambda: groups.confirm_group(group.reference, other),
        lambda: groups.group_payment_page(group.reference, other),
        lambda: groups.pay_group(group.reference, other),
    ):
        with pytest.raises(NotFound):
            look()
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert len(refused) == 4 and all(row.detail["object"] == "group" for row in refused)


def _notice() -> tuple[bytes, dict[str, str]]:
    row = db.session.scalars(select(SandboxWebhook).order_by(SandboxWebhook.id.desc())).first()
    assert row is not None
    body = row.body.encode()
    return body, {"X-Sandbox-Signature": sign(body, "test-webhook-secret", int(app_clock().now().timestamp()))}


def test_one_billing_code_pays_every_member_once(worker: int, users: dict[str, Any]) -> None:
    sponsor = users["sponsor"]
    group = groups.start_group("worker", sponsor, group_post(people(2)))
    members = _to_payment(group, sponsor)
    fees = [cases.read_runtime(a).data["fee_amount"] for a in members]
    bill = groups.pay_group(group.reference, sponsor)
    assert bill.amount == sum(fees) and [i.amount for i in bill.items] == fees
    # A member's own pay page shows the group's code instead of issuing a second one.
    view = payments.billing_for(members[0].reference, sponsor)
    assert (view.billing_code, view.amount, view.combined_count, view.own_amount) == (
        bill.billing_code,
        sum(fees),
        2,
        fees[0],
    )
    assert _count(Payment) == 0
    with pytest.raises(ServiceError):  # nothing left without a code
        groups.pay_group(group.reference, sponsor)

    sandbox_bank.pay(bill.billing_code, bill.amount)
    notice = _notice()
    assert payments.handle_webhook("sandbox", *notice) == payments.ACCEPTED
    members = _members(group)
    assert {a.status for a in members} == {"in_verification"}
    for application, fee in zip(members, fees, strict=True):
        [confirmed] = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.application_id == application.id, AuditEvent.action == "payment_confirmed"
            )
        ).all()
        assert confirmed.detail["amount"] == fee and confirmed.detail["billing_code"] == bill.billing_code
    assert {i.outcome for i in db.session.scalars(select(GroupBillItem))} == {"delivered"}
    # The same notice again moves nothing.
    assert payments.handle_webhook("sandbox", *notice) == payments.DUPLICATE
    assert [a.version for a in _members(group)] == [a.version for a in members]
    [shown] = groups.group_payment_page(group.reference, sponsor).bills
    assert shown.status == "paid"


def test_a_provider_without_combined_billing_gives_each_member_its_own_code(
    ctx: Flask, worker: int, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    providers = ctx.extensions[PROVIDERS_KEY]
    inner = providers["sandbox"]
    monkeypatch.setitem(providers, "sandbox", lambda config: SeparateBillsOnly(inner(config)))
    sponsor = users["sponsor"]
    group = groups.start_group("worker", sponsor, group_post(people(2)))
    members = _to_payment(group, sponsor)
    page = groups.group_payment_page(group.reference, sponsor)
    assert not page.combined_billing and len(page.waiting) == 2
    with pytest.raises(ServiceError):
        groups.pay_group(group.reference, sponsor)
    codes = {payments.billing_for(a.reference, sponsor).billing_code for a in members}
    assert len(codes) == 2 and None not in codes and _count(Payment) == 2


def test_an_individual_sponsor_is_refused_past_the_catalog_limit_and_a_company_is_not(
    worker: int, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    company = groups.start_group("worker", users["sponsor"], group_post(people(11, "company.example.org")))
    assert len(_members(company)) == 11  # a company sponsor has no such limit
    person_sponsored(monkeypatch)
    citizen = make_user("sponsor", email="budi@example.id", confirmed=True)
    with pytest.raises(groups.GroupRejected) as refused:
        groups.start_group("worker", citizen, group_post(people(11)))
    [reason] = refused.value.errors["members"]
    assert "at most 10" in reason and "A group of 11 people" in reason
    first = groups.start_group("worker", citizen, group_post(people(10)))
    assert {a.sponsor_kind for a in _members(first)} == {"person"}
    with pytest.raises(groups.GroupRejected) as eleventh:
        groups.start_group("worker", citizen, group_post(people(1, "late.example.org")))
    assert "already sponsors 10 foreigners" in eleventh.value.errors["members"][0]
    assert _count(ApplicationGroup) == 2


def test_a_closed_case_frees_its_place_and_the_limit_is_the_catalogs(
    worker: int, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    person_sponsored(monkeypatch, limit=2)
    citizen = make_user("sponsor", email="budi@example.id", confirmed=True)
    group = groups.start_group("worker", citizen, group_post(people(2)))
    # An applicant names the same sponsor: at the limit of 2 the third is refused on the sponsor field.
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    with pytest.raises(InvalidInput) as refused:
        complete(application.id, "employment_data", users["applicant"], sponsor_email=citizen.email)
    assert "at most 2 at a time" in refused.value.errors["sponsor_email"][0]
    # The sponsor declines one member: that case closes, and its place is free again.
    members = _members(group)
    until_sponsor(members[0], citizen, "p1@team.example.org")
    complete(
        members[0].id,
        "sponsor_confirmation",
        citizen,
        sponsor_decision="decline",
        sponsor_decline_reason="Not my family.",
    )
    complete(application.id, "employment_data", users["applicant"], sponsor_email=citizen.email)
    assert _members(group)[0].closed_at is not None


def test_the_sponsor_confirming_past_the_limit_is_refused(
    worker: int, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    person_sponsored(monkeypatch, limit=2)
    citizen = make_user("sponsor", email="budi@example.id", confirmed=True)
    group = groups.start_group("worker", citizen, group_post(people(2)))
    for index, application in enumerate(_members(group)):
        until_sponsor(application, citizen, f"p{index + 1}@team.example.org")
    person_sponsored(monkeypatch, limit=1)  # the analyst lowers the limit: confirmations follow it
    outcome = groups.confirm_group(group.reference, citizen)
    assert outcome.confirmed == [] and len(outcome.refused) == 2
    assert all("at most 1 at a time" in str(reason) for _, reason in outcome.refused)
    assert {a.status for a in _members(group)} == {"awaiting_sponsor"}


def test_erasing_a_sponsor_empties_their_groups_and_member_cases(worker: int, users: dict[str, Any]) -> None:
    from kitas.services.accounts import passwords, privacy
    from tests.services.test_privacy import found_anywhere, personal_values

    citizen = make_user("sponsor", email="budi@example.id", name="Budi Santoso", confirmed=True)
    citizen.password_hash = passwords.hash_password("tropical mango lantern 42")
    db.session.commit()
    group = groups.start_group("worker", citizen, group_post(people(2), employer_name="Budi Santoso"))
    for index, application in enumerate(_members(group)):  # the sponsor declines both: the cases close
        until_sponsor(application, citizen, f"p{index + 1}@team.example.org")
        complete(
            application.id, "sponsor_confirmation", citizen, sponsor_decision="decline", sponsor_decline_reason="Moved."
        )
    values = [*personal_values(citizen), "Person Number 1"]
    assert found_anywhere(values, skip={"audit_event"})
    privacy.erase_account(citizen.id, "tropical mango lantern 42", "203.0.113.9")
    assert found_anywhere(values, skip={"audit_event"}) == []
    db.session.expire_all()
    kept = db.session.get(ApplicationGroup, group.id)
    assert kept is not None and kept.members == {} and kept.sponsor_data == {}


def test_a_group_notice_for_the_wrong_amount_or_too_late_changes_nothing(
    worker: int, users: dict[str, Any], clock: Any
) -> None:
    sponsor = users["sponsor"]
    group = groups.start_group("worker", sponsor, group_post(people(2)))
    members = _to_payment(group, sponsor)
    bill = groups.pay_group(group.reference, sponsor)

    def notice(amount: int, paid_at: Any, event: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "event_id": event,
                "type": "payment.succeeded",
                "billing_code": bill.billing_code,
                "amount": amount,
                "paid_at": paid_at.isoformat(),
                "provider_ref": "SBX-TEST-9",
            }
        ).encode()
        return body, {"X-Sandbox-Signature": sign(body, "test-webhook-secret", int(app_clock().now().timestamp()))}

    now = app_clock().now()
    assert payments.handle_webhook("sandbox", *notice(bill.amount - 1, now, "evt_a")) == payments.WRONG_AMOUNT
    assert payments.handle_webhook("sandbox", *notice(bill.amount, bill.expires_at, "evt_b")) == payments.EXPIRED
    assert [a.version for a in _members(group)] == [a.version for a in members]
    assert {i.outcome for i in db.session.scalars(select(GroupBillItem))} == {"pending"}
    query = select(AuditEvent).where(AuditEvent.action == "payment_webhook_refused").order_by(AuditEvent.id)
    refused = db.session.scalars(query).all()  # in the order written (PostgreSQL returns no order unasked)
    assert [row.detail["outcome"] for row in refused] == ["wrong_amount", "expired"]
    clock.advance(minutes=1)
    assert payments.handle_webhook("sandbox", *notice(bill.amount, app_clock().now(), "evt_c")) == payments.ACCEPTED
    assert {a.status for a in _members(group)} == {"in_verification"}
