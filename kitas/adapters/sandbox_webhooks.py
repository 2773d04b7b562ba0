"""The sandbox provider's webhook sender: POSTs each signed notice to the merchant over real HTTP,
asynchronously, leased so two senders never post the same one, retried with exponential backoff
until the merchant answers 2xx (or the provider gives up)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import SandboxWebhook
from ..transactions import is_postgres, write_transaction
from .sandbox_provider import SIGNATURE_HEADER, sign

SEND_TIMEOUT_SECONDS = 5.0
SEND_BATCH = 20
CLAIM_LEASE = timedelta(seconds=60)  # a claimed webhook is not picked up by another sender meanwhile
BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 15  # about eight hours of retries, then the provider gives up


@dataclass(frozen=True)
class _Outgoing:
    id: int
    url: str
    body: bytes


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed delivery: 5 s, 10 s, 20 s, ... at most an hour."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _claim_due(now: datetime, limit: int) -> list[_Outgoing]:
    """Lease due webhooks so that a second sender does not post them at the same moment."""
    with write_transaction():
        query = (
            select(SandboxWebhook)
            .where(
                SandboxWebhook.delivered_at.is_(None),
                SandboxWebhook.attempts < MAX_ATTEMPTS,
                SandboxWebhook.next_attempt_at <= now,
            )
            .order_by(SandboxWebhook.next_attempt_at, SandboxWebhook.id)
            .limit(limit)
        )
        if is_postgres():
            query = query.with_for_update(skip_locked=True)
        rows = db.session.scalars(query).all()
        for row in rows:
            row.next_attempt_at = now + CLAIM_LEASE
        claimed = [_Outgoing(row.id, row.url, row.body.encode("utf-8")) for row in rows]
    return claimed


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected webhook is a failed webhook (following it would turn the POST into a GET)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, signature: str) -> str | None:
    """POST one webhook; None when the merchant answered 2xx, else what went wrong."""
    if urlsplit(url).scheme not in ("http", "https"):
        return f"the callback URL {url!r} is not http(s)"
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "kitas-sandbox-provider/1",
            SIGNATURE_HEADER: signature,
        },
    )
    try:
        with _OPENER.open(request, timeout=SEND_TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip()
        return f"HTTP {exc.code}: {detail}"[:1000]
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return f"{exc.__class__.__name__}: {reason}"[:1000]
    return None if 200 <= status < 300 else f"HTTP {status}"


def _record_attempt(webhook_id: int, now: datetime, error: str | None) -> None:
    with write_transaction():
        query = select(SandboxWebhook).where(SandboxWebhook.id == webhook_id)
        if is_postgres():
            query = query.with_for_update()
        row = db.session.scalars(query).one()
        row.attempts += 1
        if error is None:
            row.delivered_at = now
            row.last_error = None
            return
        row.last_error = error
        row.next_attempt_at = now + backoff(row.attempts)
        if row.attempts >= MAX_ATTEMPTS:
            row.last_error = f"gave up after {row.attempts} attempts; last error: {error}"[:2000]


def send_due_webhooks(now: datetime, limit: int = SEND_BATCH) -> int:
    """POST every due webhook to its merchant (signed at sending time); returns how many were attempted."""
    secret = str(current_app.config["KITAS_PAYMENT_WEBHOOK_SECRET"])
    attempted = 0
    while True:
        batch = _claim_due(now, limit)
        for webhook in batch:
            # No transaction is open while we wait for the merchant, who needs to write.
            error = _post(webhook.url, webhook.body, sign(webhook.body, secret, int(now.timestamp())))
            _record_attempt(webhook.id, now, error)
        attempted += len(batch)
        if len(batch) < limit:
            return attempted
