"""Officers claim and release tasks: who may, what the loser is told, and what the trail keeps."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from engine import ManualClock
from kitas.extensions import db
from kitas.i18n import in_language, local_time, translate
from kitas.models import AuditEvent, HumanTask
from kitas.services.cases.claims import claim_task, release_task
from kitas.services.errors import Conflict, Forbidden
from tests.services.helpers import open_task, start_until_verification


def _audit(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture()
def waiting(worker: int, users: dict[str, Any]) -> tuple[str, str]:
    """A paid case waiting for the verifier: (reference, task id of verify_documents)."""
    application = start_until_verification(users)
    return application.reference, open_task(application.id, "verify_documents").task_id


def test_a_claim_is_recorded_with_who_and_when(
    waiting: tuple[str, str], users: dict[str, Any], clock: ManualClock
) -> None:
    reference, task_id = waiting
    task = claim_task(reference, task_id, users["verifier"])
    assert (task.claimed_by_id, task.claimed_at) == (users["verifier"].id, clock.now().replace(microsecond=0))
    assert claim_task(reference, task_id, users["verifier"]).claimed_by_id == users["verifier"].id  # again: no-op
    [row] = _audit("task_claimed")
    assert row.actor_id == users["verifier"].id and (row.detail["task"], row.detail["task_id"]) == (
        "verify_documents",
        task_id,
    )


def test_the_second_officer_is_told_who_claimed_it_and_when(
    waiting: tuple[str, str], users: dict[str, Any], clock: ManualClock
) -> None:
    reference, task_id = waiting
    claimed = claim_task(reference, task_id, users["verifier"])
    with pytest.raises(Conflict) as lost:
        claim_task(reference, task_id, users["verifier2"])
    # The time is a parameter: the page shows it in the reader's zone and language.
    said = lost.value.message
    assert said.msgid == "%(officer)s claimed this task at %(when)s"
    assert said.params == {"officer": users["verifier"].label, "when": claimed.claimed_at}
    with in_language("en", "Asia/Jayapura"):
        when = local_time(claimed.claimed_at)
        assert when.endswith("WIT")
        assert translate(said) == f"{users['verifier'].label} claimed this task at {when}"
    db.session.rollback()  # a claim whose time was never kept
    db.session.execute(update(HumanTask).where(HumanTask.task_id == task_id).values(claimed_at=None))
    db.session.commit()
    with pytest.raises(Conflict) as lost:
        claim_task(reference, task_id, users["verifier2"])
    assert str(lost.value) == f"{users['verifier'].label} claimed this task earlier"
    assert len(_audit("task_claimed")) == 1


def test_only_the_lane_may_claim_and_the_refusal_names_the_task(
    waiting: tuple[str, str], users: dict[str, Any]
) -> None:
    reference, task_id = waiting
    with pytest.raises(Forbidden):
        claim_task(reference, task_id, users["applicant"])  # sees the case, does not work the Verifier lane
    with pytest.raises(Forbidden):
        release_task(reference, task_id, users["supervisor"])
    refusals = _audit("access_refused")
    assert [(row.actor_id, row.detail["task_id"]) for row in refusals] == [
        (users["applicant"].id, task_id),
        (users["supervisor"].id, task_id),
    ]
    assert _audit("task_claimed") == []


def test_only_the_claimer_releases_and_the_release_is_recorded(waiting: tuple[str, str], users: dict[str, Any]) -> None:
    reference, task_id = waiting
    assert release_task(reference, task_id, users["verifier"]).claimed_by_id is None  # nothing to release
    assert _audit("task_released") == []
    claim_task(reference, task_id, users["verifier"])
    with pytest.raises(Forbidden) as refused:
        release_task(reference, task_id, users["verifier2"])
    assert str(refused.value) == "only the officer who claimed this task can release it"
    [refusal] = _audit("access_refused")
    assert refusal.actor_id == users["verifier2"].id and refusal.detail["task_id"] == task_id
    assert refusal.detail["reason"] == "only the officer who claimed this task can release it"
    task = release_task(reference, task_id, users["verifier"])
    assert (task.claimed_by_id, task.claimed_at) == (None, None)
    [row] = _audit("task_released")
    assert row.actor_id == users["verifier"].id and (row.detail["task"], row.detail["task_id"]) == (
        "verify_documents",
        task_id,
    )
