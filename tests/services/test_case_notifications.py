"""People hear about their case: the applicant on each status change, the sponsor when asked."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Notification
from kitas.services import cases
from kitas.services.errors import InvalidInput
from tests.services.helpers import complete, request_corrections, start_until_verification

pytestmark = pytest.mark.usefixtures("worker")


def _rows(user: Any) -> list[Notification]:
    return list(
        db.session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
    )


def test_sponsor_is_asked_and_applicant_told_of_each_status(users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    assert _rows(users["applicant"]) == []  # still a draft: nothing to say
    complete(application.id, "employment_data", users["applicant"])
    sponsor_rows = _rows(users["sponsor"])
    assert {r.channel for r in sponsor_rows} == {"in_app", "email"}
    assert "please confirm your guarantee" in sponsor_rows[0].subject and sponsor_rows[0].link == "/sponsor/"
    applicant_rows = _rows(users["applicant"])
    assert [r.subject for r in applicant_rows][0] == f"{application.reference}: Waiting for the sponsor"


def test_corrections_reach_the_applicant_by_every_channel(users: dict[str, Any]) -> None:
    users["applicant"].phone = "+55 11 91234 5678"
    db.session.commit()
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "Passport scan unreadable.")
    latest = [r for r in _rows(users["applicant"]) if "Correction requested" in r.subject]
    assert {r.channel for r in latest} == {"in_app", "email", "sms"}
    assert all(r.link == f"/applications/{application.reference}" for r in latest)
    assert {r.sent_at is None for r in latest if r.channel != "in_app"} == {True}  # waiting in the outbox


def test_a_refused_step_tells_nobody(users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    with pytest.raises(InvalidInput):
        complete(application.id, "employment_data", users["applicant"], contract_months=7)
    assert _rows(users["applicant"]) == [] and _rows(users["sponsor"]) == []
