"""Sending SMS: an ``SmsSender`` protocol and a sandbox that only logs.

A real provider (an HTTP API) is one more class with the same ``send`` method,
chosen by ``KITAS_SMS_PROVIDER``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

log = logging.getLogger("kitas.sms")


class SmsSender(Protocol):
    """Anything that can send a text message; raises on failure so the outbox retries."""

    def send(self, to: str, text: str) -> None:
        """Send ``text`` to the E.164 number ``to`` or raise."""
        ...


class SandboxSms:
    """Writes each message to the log; nothing leaves the machine."""

    def send(self, to: str, text: str) -> None:
        """Log the message (at WARNING, so it shows with Python's default logging setup)."""
        # Alembic's fileConfig (migrations/env.py) disables loggers created before it runs; this
        # logger is the only way the message is seen, so it is switched back on.
        log.disabled = False
        log.warning("sandbox SMS (not sent) to %s: %s", to, text)


def sms_sender_from_config(config: Mapping[str, Any]) -> SmsSender:
    """The SMS sender named by ``KITAS_SMS_PROVIDER`` (only ``sandbox`` exists so far)."""
    provider = str(config.get("KITAS_SMS_PROVIDER") or "sandbox")
    if provider == "sandbox":
        return SandboxSms()
    raise ValueError(f"unknown SMS provider {provider!r}; set KITAS_SMS_PROVIDER=sandbox")
