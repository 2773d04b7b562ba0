"""Problems of a draft, element by element (PLACEHOLDER until the lint helper's module merges).

Only what the engine and the deployment refuse (rule ``engine``); the real module adds the modeling
and KITAS rules behind the same interface: ``lint_draft(draft) -> LintReport``,
``report.as_json(translate)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from engine import DiagramError, list_processes
from forms.texts import Message

from ...models import StudioDraft
from ..deployments import check_deployable

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem: the element's id (or a file name, or ``(document)``), how bad, which rule, what to do."""

    element: str
    severity: Severity
    rule: str
    message: Message | str


@dataclass(frozen=True)
class LintReport:
    process_id: str
    imports: bool
    deployable: bool
    problems: tuple[Problem, ...]

    def as_json(self, translate: Callable[[Any], Any]) -> dict[str, Any]:
        """The report as JSON, each message translated by ``translate``."""
        return {
            "process_id": self.process_id,
            "imports": self.imports,
            "deployable": self.deployable,
            "problems": [
                {"element": p.element, "severity": p.severity, "rule": p.rule, "message": str(translate(p.message))}
                for p in self.problems
            ],
        }


def lint_draft(draft: StudioDraft) -> LintReport:
    """What the engine and the deployment would refuse in the draft's diagram and files."""
    try:
        list_processes(draft.bpmn_xml)
    except DiagramError as exc:
        problems = tuple(Problem(element, "error", "engine", why) for element, why in exc.problems)
        return LintReport(draft.process_id, False, False, problems)
    found = check_deployable(draft.bpmn_xml, dict(draft.files))
    problems = tuple(Problem(element, "error", "engine", why) for element, why in found)
    return LintReport(draft.process_id, True, not problems, problems)
