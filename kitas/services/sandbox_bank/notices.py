"""The sandbox bank's queue of signed payment notices to the merchant, worked through under a lease."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Row

from ...adapters.sandbox_provider import EVENT_TYPE, sign
from ...adapters.sandbox_webhooks import post_notice
from ...extensions import app_clock, db
from ...models import SandboxWebhook
from .. import leases
from ..public_address import absolute

# The bank writes its times in Western Indonesian Time, as Indonesian banks do.
WIB = ZoneInfo("Asia/Jakarta")
BATCH = 20
# Undelivered notices; a claimed one is left alone for a minute (far longer than one POST may take).
NOTICES = leases.Queue(
    kind=leases.KINDS["webhook"],
    ready=SandboxWebhook.delivered_at.is_(None),
    due_at=SandboxWebhook.next_attempt_at,
    lease=timedelta(seconds=60),
    done_at=SandboxWebhook.delivered_at,
)


def queue_notice(url: str, billing_code: str, amount: int, paid_at: datetime, provider_ref: str) -> None:
    """Queue the notice of a payment inside the caller's transaction; it is due at once."""
    event_id = "evt_" + secrets.token_hex(16)
    body = {
        "event_id": event_id,
        "type": EVENT_TYPE,
        "billing_code": billing_code,
        "amount": amount,
        "paid_at": paid_at.astimezone(WIB).isoformat(),
        "provider_ref": provider_ref,
    }
    db.session.add(
        SandboxWebhook(
            event_id=event_id,
            url=url,
            body=json.dumps(body, separators=(",", ":"), sort_keys=True),
            created_at=paid_at,
            attempts=0,
            next_attempt_at=paid_at,
        )
    )


def _post(row: Row[Any], secret: str) -> None:
    """POST one claimed notice, signed at sending time; a refusal is a failed attempt."""
    body = str(row.body).encode("utf-8")
    # The simulated provider lives in this process, so its merchant is this service: the notice goes to
    # the callback's path at this service's address as it is now, not as it was when the bill was opened.
    posted = post_notice(absolute(row.url), body, sign(body, secret, int(app_clock().now().timestamp())))
    if not posted.delivered:
        raise leases.AttemptFailed(posted.error)


def send_due_notices(owner: str | None = None) -> int:
    """POST every due notice to its merchant; returns how many were attempted (delivered or not)."""
    secret = str(current_app.config["KITAS_PAYMENT_WEBHOOK_SECRET"])
    attempts = leases.work_through(
        NOTICES,
        owner or leases.scheduler_id(),
        lambda row: _post(row, secret),
        BATCH,
        columns=(SandboxWebhook.url, SandboxWebhook.body),
    )
    return len(attempts)
