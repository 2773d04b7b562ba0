"""Two officers complete the same task at the same moment, with real threads on the real database."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, User
from kitas.services import cases
from kitas.services.cases.claims import claim_task
from kitas.services.errors import Conflict
from tests.services.helpers import open_task, start_until_verification
from tests.worker_data import form_data


def _race(
    app: Flask, application_id: int, task_id: str, user_ids: list[int], payloads: list[dict[str, Any]]
) -> list[Any]:
    barrier = threading.Barrier(len(user_ids))
    results: list[Any] = [None] * len(user_ids)

    def officer(index: int) -> None:
        with app.app_context():
            user = db.session.get(User, user_ids[index])
            barrier.wait()
            try:
                # As an officer does: start working on the task (claim it), then decide.
                reference = db.session.get(Application, application_id).reference
                claim_task(reference, task_id, user)
                cases.complete_task(application_id, task_id, user, payloads[index])
                results[index] = "ok"
            except Conflict as exc:
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=officer, args=(i,)) for i in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_officers_same_task_one_wins(ctx: Flask, worker: int, users: dict[str, Any]) -> None:
    user_ids = {role: user.id for role, user in users.items()}
    officer_ids = [user_ids["verifier"], user_ids["verifier2"]]
    officer_names = [users["verifier"].full_name, users["verifier2"].full_name]
    for _ in range(3):  # a few rounds: the race must hold whichever thread wins
        application = start_until_verification({k: db.session.get(User, v) for k, v in user_ids.items()})
        task = open_task(application.id, "verify_documents")
        version = db.session.get(Application, application.id).version
        payloads = [
            form_data("verify_documents", verification_decision="approve"),
            form_data("verify_documents", verification_decision="reject", verification_reason="Forged letter"),
        ]
        application_id, task_id = application.id, task.task_id
        db.session.remove()
        results = _race(ctx, application_id, task_id, officer_ids, payloads)

        assert sorted(r == "ok" for r in results) == [False, True], results
        winner = results.index("ok")
        loser = results[1 - winner]
        # The loser lost the claim (or found the task decided): either way told who won.
        assert ("claimed this task" in str(loser) or "already completed by" in str(loser)) and officer_names[
            winner
        ] in str(loser)

        stored = db.session.get(Application, application_id)
        assert stored.version == version + 1
        runtime = cases.read_runtime(stored)
        assert runtime.data["verification_decision"] == payloads[winner]["verification_decision"]
        assert stored.status == ("awaiting_approval" if winner == 0 else "rejected")
        completions = db.session.scalars(
            select(AuditEvent).where(AuditEvent.application_id == application_id, AuditEvent.action == "task_completed")
        ).all()
        assert [c.detail["task"] for c in completions].count("verify_documents") == 1


def test_parallel_password_guesses_stay_within_the_limit(ctx: Flask) -> None:
    """Guesses sent at once queue on the limit check: no more passwords are tried than the limit allows."""
    from kitas.models import LoginAttempt
    from kitas.services import accounts
    from kitas.services.accounts import LoginRefused, LoginThrottled
    from tests.factories import make_user

    make_user("applicant", email="target@example.org", password="correct horse battery staple")
    limit = ctx.config["KITAS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    guesses = 12
    barrier = threading.Barrier(guesses)
    outcomes: list[str] = []

    def guess(index: int) -> None:
        with ctx.app_context():
            barrier.wait()
            try:
                accounts.authenticate("target@example.org", f"wrong guess {index}", "10.0.0.1")
                outcomes.append("signed in")
            except LoginThrottled:
                outcomes.append("throttled")
            except LoginRefused:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == guesses
    assert outcomes.count("refused") == limit and outcomes.count("throttled") == guesses - limit
    tried = db.session.scalars(select(LoginAttempt).where(LoginAttempt.account == "target@example.org")).all()
    assert len(tried) == limit and not any(row.succeeded for row in tried)
