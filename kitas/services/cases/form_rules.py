"""What a case's form rules are checked against: today (in Jakarta), the type's numbers, the earlier answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import forms
from workflows import catalog

from ...models import Application

# The day a rule's "today" is: the service's own, Indonesia's western zone, whatever the reader's zone.
SERVICE_ZONE = ZoneInfo("Asia/Jakarta")


def rule_values(kitas_type: str) -> dict[str, Any]:
    """The ``catalog:NAME`` values of a KITAS type: its ``rule_values`` and lists such as
    ``durations_months`` (empty for a type the catalog does not know)."""
    try:
        return catalog().by_code(kitas_type).named_values()
    except KeyError:
        return {}


def rule_context(
    application: Application, now: datetime, answers: Mapping[str, Any] | None = None
) -> forms.RuleContext:
    """The context every form rule of this case is checked in, at ``now``."""
    return type_rule_context(application.kitas_type, now, answers)


def type_rule_context(kitas_type: str, now: datetime, answers: Mapping[str, Any] | None = None) -> forms.RuleContext:
    """The context a form rule of a type is checked in before its case exists (a group's start), at ``now``."""
    day = (now if now.tzinfo else now.replace(tzinfo=SERVICE_ZONE)).astimezone(SERVICE_ZONE).date()
    return forms.RuleContext(today=day, values=rule_values(kitas_type), answers=dict(answers or {}))
