"""Payments (placeholder until the payments work lands)."""

from __future__ import annotations


def deliver_provider_webhooks() -> int:
    """Let the sandbox provider send the webhooks it owes; returns how many were handled."""
    return 0
