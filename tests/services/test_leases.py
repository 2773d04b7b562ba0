"""The one leased-claim mechanism on its own: leases, recorded outcomes, the retry policies, incidents."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from engine import ManualClock
from kitas.extensions import app_clock, db
from kitas.models import SandboxWebhook
from kitas.services import leases
from kitas.services.leases import KINDS, AttemptFailed, RetryPolicy
from kitas.services.sandbox_bank import NOTICES
from kitas.transactions import write_transaction

# The sandbox provider's notices stand in for any leased table: they need no other rows.
POLICY = NOTICES.kind.policy
_EVENTS = itertools.count()


def _rows(count: int, **columns: Any) -> list[int]:
    """``count`` notices due now (or as ``columns`` say), committed; their ids in due order."""
    now = app_clock().now()
    rows = [
        SandboxWebhook(
            event_id=f"evt_{next(_EVENTS)}",
            url="http://merchant.invalid/hook",
            body="{}",
            created_at=now,
            **({"attempts": 0, "next_attempt_at": now} | columns),
        )
        for _ in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def _row(row_id: int) -> SandboxWebhook:
    db.session.expire_all()
    row = db.session.get(SandboxWebhook, row_id)
    assert row is not None
    return row


def _ids(claimed: list[Any]) -> list[int]:
    return [row.id for row in claimed]


def test_a_claim_leases_due_rows_oldest_first_and_counts_the_attempt(ctx: Flask, clock: ManualClock) -> None:
    later = _rows(1)
    clock.advance(seconds=-10)
    earlier = _rows(1)
    clock.advance(seconds=10)
    not_yet = _rows(1, next_attempt_at=clock.now() + timedelta(seconds=1))
    claimed = leases.claim(NOTICES, "first", columns=(SandboxWebhook.url,))
    assert _ids(claimed) == earlier + later and claimed[0].url == "http://merchant.invalid/hook"
    row = _row(earlier[0])
    assert (row.lease_owner, row.attempts, row.next_attempt_at) == ("first", 1, clock.now() + NOTICES.lease)
    assert _row(not_yet[0]).attempts == 0


def test_a_second_claimer_does_not_get_leased_rows_until_the_lease_ends(ctx: Flask, clock: ManualClock) -> None:
    ids = _rows(3)
    assert _ids(leases.claim(NOTICES, "first", limit=2)) == ids[:2]
    assert _ids(leases.claim(NOTICES, "second")) == ids[2:]
    assert leases.claim(NOTICES, "second") == []
    clock.advance(seconds=59)
    assert leases.claim(NOTICES, "second") == []
    clock.advance(seconds=1)  # the first claimer died: its lease ran out
    assert _ids(leases.claim(NOTICES, "second")) == ids
    assert {_row(i).lease_owner for i in ids} == {"second"}


def test_a_lease_must_last(ctx: Flask) -> None:
    with pytest.raises(ValueError, match="a lease must last"):
        leases.claim(NOTICES, "first", lease=timedelta(0))


def test_a_failure_waits_the_policys_delay_then_gives_up(ctx: Flask, clock: ManualClock) -> None:
    [row_id] = _rows(1)
    for attempt in range(1, POLICY.max_attempts):
        assert _ids(leases.claim(NOTICES, "first")) == [row_id]
        assert leases.record_failure(NOTICES, row_id, "first", "HTTP 503") is False
        row = _row(row_id)
        assert (row.attempts, row.last_error) == (attempt, "HTTP 503")
        assert row.next_attempt_at == clock.now() + POLICY.delay(attempt)
        clock.set(row.next_attempt_at)
    leases.claim(NOTICES, "first")
    assert leases.record_failure(NOTICES, row_id, "first", "HTTP 503") is True
    row = _row(row_id)
    assert (row.gave_up_at, row.next_attempt_at, row.delivered_at) == (clock.now(), None, None)
    assert row.last_error == f"gave up after {POLICY.max_attempts} attempts; last error: HTTP 503"
    clock.advance(days=30)
    assert leases.claim(NOTICES, "first") == []


def test_an_outcome_from_a_claimer_whose_lease_was_taken_over_is_not_recorded(ctx: Flask, clock: ManualClock) -> None:
    [row_id] = _rows(1)
    leases.claim(NOTICES, "slow")
    clock.advance(minutes=2)
    leases.claim(NOTICES, "second")
    assert leases.record_failure(NOTICES, row_id, "slow", "timed out") is False
    row = _row(row_id)
    assert (row.lease_owner, row.last_error, row.next_attempt_at) == ("second", None, clock.now() + NOTICES.lease)
    # A success is a success whoever reports it: the notice was delivered.
    leases.record_success(NOTICES, row_id)
    row = _row(row_id)
    assert (row.delivered_at, row.next_attempt_at) == (clock.now(), None)
    assert leases.record_failure(NOTICES, row_id, "second", "late") is False
    assert _row(row_id).last_error is None


def test_a_row_whose_worker_keeps_dying_is_given_up_at_the_next_claim(ctx: Flask, clock: ManualClock) -> None:
    [row_id] = _rows(1)
    for _ in range(POLICY.max_attempts):  # each worker dies before it records anything
        assert _ids(leases.claim(NOTICES, "doomed")) == [row_id]
        clock.advance(minutes=1)
    assert leases.claim(NOTICES, "next") == []
    row = _row(row_id)
    assert row.gave_up_at == clock.now() and row.attempts == POLICY.max_attempts
    assert "did not finish" in (row.last_error or "")


def test_work_runs_outside_any_transaction_and_a_failure_does_not_hold_up_the_others(
    ctx: Flask, clock: ManualClock
) -> None:
    ids = _rows(3)
    seen: list[tuple[int, bool]] = []

    def work(row: Any) -> str:
        seen.append((row.id, db.session().in_transaction()))
        if row.id == ids[1]:
            raise AttemptFailed("HTTP 500: try later")
        if row.id == ids[2]:
            raise KeyError("broken")
        return f"posted {row.url}"

    attempts = leases.work_through(NOTICES, "worker", work, limit=2, columns=(SandboxWebhook.url,))
    assert seen == [(ids[0], False), (ids[1], False), (ids[2], False)]
    assert [(a.row_id, a.outcome, a.error) for a in attempts] == [
        (ids[0], "posted http://merchant.invalid/hook", None),
        (ids[1], None, "HTTP 500: try later"),
        (ids[2], None, "KeyError: 'broken'"),
    ]
    assert _row(ids[0]).delivered_at == clock.now()
    assert _row(ids[1]).next_attempt_at == clock.now() + POLICY.delay(1)
    assert _row(ids[2]).last_error == "KeyError: 'broken'" and _row(ids[2]).delivered_at is None
    assert leases.work_through(NOTICES, "worker", work) == []  # nothing due until the retries


def test_retry_policies_grow_cap_and_give_up() -> None:
    policy = RetryPolicy(timedelta(seconds=10), 3, timedelta(minutes=2), 4)
    assert [policy.delay(n).total_seconds() for n in range(1, 5)] == [10, 30, 90, 120]
    assert [policy.gives_up(n) for n in (3, 4, 5)] == [False, True, True]
    assert RetryPolicy(timedelta(seconds=5), 1, timedelta(seconds=5), 1).delay(9) == timedelta(seconds=5)
    for bad in (
        (timedelta(0), 2, timedelta(hours=1), 3),
        (timedelta(seconds=1), 0.5, timedelta(hours=1), 3),
        (timedelta(hours=2), 2, timedelta(hours=1), 3),
        (timedelta(seconds=1), 2, timedelta(hours=1), 0),
    ):
        with pytest.raises(ValueError, match="a retry policy needs"):
            RetryPolicy(*bad)


def test_one_registry_names_every_leased_table_and_its_policy() -> None:
    assert set(KINDS) == {"timer", "notification", "webhook"}
    assert {kind.table.name for kind in KINDS.values()} == {"timer", "notification", "sandbox_webhook"}
    for kind in KINDS.values():
        assert {"attempts", "next_attempt_at", "lease_owner", "last_error", "gave_up_at"} <= set(kind.table.c.keys())
    assert KINDS["timer"].policy.max_attempts == 10 and KINDS["timer"].policy.delay(1) == timedelta(minutes=1)


def test_given_up_rows_are_listed_and_can_be_retried(ctx: Flask, clock: ManualClock) -> None:
    [row_id, healthy] = _rows(2)
    leases.claim(NOTICES, "first")
    with write_transaction():
        db.session.get(SandboxWebhook, row_id).attempts = POLICY.max_attempts  # type: ignore[union-attr]
    leases.record_failure(NOTICES, row_id, "first", "HTTP 410: gone")
    [incident] = leases.given_up()
    assert (incident.kind, incident.row_id, incident.attempts, incident.gave_up_at) == (
        "webhook",
        row_id,
        POLICY.max_attempts,
        clock.now(),
    )
    assert incident.last_error is not None and "HTTP 410: gone" in incident.last_error
    assert leases.retry_given_up("webhook", healthy) is False
    assert leases.retry_given_up("webhook", row_id) is True
    assert leases.given_up() == []
    assert _ids(leases.claim(NOTICES, "admin")) == [row_id]  # due at once, with a fresh set of attempts
    assert _row(row_id).attempts == 1


def _claim_all(app: Flask, owner: str, barrier: threading.Barrier, out: dict[str, list[int]]) -> None:
    with app.app_context():
        try:
            barrier.wait(timeout=30)
            while claimed := leases.claim(NOTICES, owner, limit=5):
                out[owner].extend(_ids(claimed))
        finally:
            db.session.remove()


def test_two_threads_claiming_at_once_never_get_the_same_row(ctx: Flask) -> None:
    ids = _rows(100)
    db.session.remove()
    barrier = threading.Barrier(2)
    out: dict[str, list[int]] = {"a": [], "b": []}
    threads = [threading.Thread(target=_claim_all, args=(ctx, owner, barrier, out)) for owner in out]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not set(out["a"]) & set(out["b"])
    assert sorted(out["a"] + out["b"]) == ids


def test_on_postgresql_rows_another_claimer_holds_are_skipped_not_waited_for(ctx: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    ids = _rows(6)
    db.session.remove()
    with db.engine.connect() as other:
        with other.begin():
            other.execute(text("SELECT id FROM sandbox_webhook WHERE id <= :last FOR UPDATE"), {"last": ids[2]})
            result: list[int] = []
            claimer = threading.Thread(target=lambda: _claim_once(ctx, result))
            claimer.start()
            claimer.join(timeout=30)
            assert not claimer.is_alive(), "the claim waited for the locked rows instead of skipping them"
        assert result == ids[3:]
    assert db.session.scalars(select(SandboxWebhook.attempts).order_by(SandboxWebhook.id)).all() == [0, 0, 0, 1, 1, 1]


def _claim_once(app: Flask, out: list[int]) -> None:
    with app.app_context():
        try:
            out.extend(_ids(leases.claim(NOTICES, "skipper")))
        finally:
            db.session.remove()
