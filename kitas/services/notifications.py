"""The notification outbox (placeholder until the accounts work lands)."""

from __future__ import annotations


def deliver_due() -> int:
    """Send the e-mails and SMS that are due; returns how many were handled."""
    return 0
