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


def test_deciding_a_task_nobody_claimed_is_refused_by_the_service(
    waiting: tuple[str, str], users: dict[str, Any]
) -> None:
    from kitas.models import Application
    from kitas.services import cases
    from tests.worker_data import form_data

    reference, task_id = waiting
    application_id = db.session.scalar(select(Application.id).where(Application.reference == reference))
    with pytest.raises(Conflict) as refused:
        cases.complete_task(application_id, task_id, users["verifier"], form_data("verify_documents"))
    assert "Start working on this" in str(refused.value)
    db.session.rollback()
    assert db.session.scalar(select(HumanTask.task_id).where(HumanTask.task_id == task_id)) == task_id  # still open


def test_deciding_a_task_another_officer_holds_is_refused_naming_them(
    waiting: tuple[str, str], users: dict[str, Any]
) -> None:
    from kitas.models import Application
    from kitas.services import cases
    from tests.worker_data import form_data

    reference, task_id = waiting
    claim_task(reference, task_id, users["verifier"])
    application_id = db.session.scalar(select(Application.id).where(Application.reference == reference))
    with pytest.raises(Conflict, match="claimed by Vera Verifier"):
        cases.complete_task(application_id, task_id, users["verifier2"], form_data("verify_documents"))
    cases.complete_task(application_id, task_id, users["verifier"], form_data("verify_documents"))  # the holder may


def test_a_supervisor_assigns_a_task_to_a_named_officer_and_takes_it_back(
    waiting: tuple[str, str], users: dict[str, Any]
) -> None:
    from kitas.services.cases.claims import assign_task, officers_for, take_back_task

    reference, task_id = waiting
    assert [u.id for u in officers_for("verifier")] == [users["verifier"].id, users["verifier2"].id]
    claim_task(reference, task_id, users["verifier"])
    task = assign_task(reference, task_id, users["supervisor"], users["verifier2"].id)  # from Vera to Victor
    assert task.claimed_by_id == users["verifier2"].id
    with pytest.raises(Conflict, match="Victor Verifier <victor@imigrasi.example> claimed this task"):
        claim_task(reference, task_id, users["verifier"])
    [assigned] = _audit("task_assigned")
    assert (assigned.actor_id, assigned.detail["officer_id"], assigned.detail["previous_id"]) == (
        users["supervisor"].id,
        users["verifier2"].id,
        users["verifier"].id,
    )
    assert take_back_task(reference, task_id, users["supervisor"]).claimed_by_id is None
    [taken] = _audit("task_taken_back")
    assert taken.detail["officer_id"] == users["verifier2"].id
    assert claim_task(reference, task_id, users["verifier"]).claimed_by_id == users["verifier"].id


def test_only_supervisors_assign_and_only_to_officers_of_the_lane(
    waiting: tuple[str, str], users: dict[str, Any]
) -> None:
    from kitas.services.cases.claims import assign_task, take_back_task
    from kitas.services.errors import NotFound

    reference, task_id = waiting
    with pytest.raises(Forbidden):
        assign_task(reference, task_id, users["verifier"], users["verifier2"].id)
    with pytest.raises(Forbidden):
        take_back_task(reference, task_id, users["verifier"])
    with pytest.raises(NotFound, match="role verifier"):
        assign_task(reference, task_id, users["supervisor"], users["applicant"].id)  # not of the Verifier lane
    with pytest.raises(NotFound):
        assign_task(reference, task_id, users["supervisor"], 999_999)
    db.session.rollback()
    assert db.session.scalar(select(HumanTask.claimed_by_id).where(HumanTask.task_id == task_id)) is None
