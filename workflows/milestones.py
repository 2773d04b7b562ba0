"""The milestones of a case the supervisors' dashboard counts, as changes of status (``milestones.json``).

A status is the diagram's word, so which status changes are milestones is data beside the catalog: an
analyst who adds a status to a diagram adds it here, and no Python names a step of the process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MILESTONES_FILE = Path(__file__).with_name("milestones.json")


@dataclass(frozen=True)
class MilestoneRule:
    """A milestone: reached when a case enters one of ``enters`` or leaves one of ``leaves``."""

    kind: str
    enters: frozenset[str]
    leaves: frozenset[str]
    once: bool

    def reached(self, before: str | None, after: str) -> bool:
        """Whether a change of status from ``before`` to ``after`` reaches this milestone."""
        if before == after:
            return False
        return after in self.enters or (before is not None and before in self.leaves)


@lru_cache(maxsize=1)
def milestone_rules() -> tuple[MilestoneRule, ...]:
    """The milestone rules of the file, read once per process."""
    raw = json.loads(MILESTONES_FILE.read_text(encoding="utf-8"))
    return tuple(
        MilestoneRule(
            kind=kind,
            enters=frozenset(rule.get("enters", [])),
            leaves=frozenset(rule.get("leaves", [])),
            once=bool(rule.get("once", False)),
        )
        for kind, rule in raw["milestones"].items()
    )
