"""The health page tells an operator what is deployed and whether timers are late."""

from __future__ import annotations

from typing import Any


def test_health_reports_deployments_and_timers(worker: int, users: dict[str, Any], clock: Any) -> None:
    from flask import current_app

    from tests.services.helpers import start_until_payment

    client = current_app.test_client()
    body = client.get("/health").get_json()
    assert body == {
        "database": "ok",
        "processes": {
            "kitas_worker": 1,
            "shared_approval": 1,
            "shared_biometrics": 1,
            "shared_document_review": 1,
            "shared_issuance": 1,
            "shared_payment": 1,
        },
        "timers_pending": 0,
        "timers_overdue": 0,
        "scheduler": {"state": "none", "alive": 0, "last_beat": None},
    }
    start_until_payment(users)
    clock.advance(days=8)
    body = client.get("/health").get_json()
    assert (body["timers_pending"], body["timers_overdue"]) == (1, 1)
