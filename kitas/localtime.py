"""Times as people in Indonesia read them: stored in UTC, shown in Western Indonesian Time (WIB)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# The tzdata package (a dependency) supplies the zone where the system has no time zone files.
WIB = ZoneInfo("Asia/Jakarta")


def local_time(value: datetime | None, with_time: bool = True) -> str:
    """A UTC datetime in WIB: ``28 Nov 2026, 14:05 WIB`` (or only the date)."""
    if value is None:
        return ""
    local = value.astimezone(WIB)
    return local.strftime("%d %b %Y, %H:%M WIB") if with_time else local.strftime("%d %b %Y")
