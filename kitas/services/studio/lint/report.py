"""What the lint says about a diagram: each problem on its element, and whether the diagram can be deployed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from forms.texts import Message

ERROR = "error"  # the diagram cannot be deployed, or a case on it would fail or hang
WARNING = "warning"  # style, or something a person should look at; deployment accepts it
DOCUMENT = "(document)"


@dataclass(frozen=True)
class Problem:
    """One problem of one element: ``element`` is an element id, ``(document)`` for the whole file, or the
    name of a form, decision table or texts file; ``message`` says what is wrong and what to do."""

    element: str
    severity: str
    rule: str
    message: Message

    def as_json(self, translate: Callable[[Message], str] = str) -> dict[str, str]:
        return {
            "element": self.element,
            "severity": self.severity,
            "rule": self.rule,
            "message": translate(self.message),
        }


@dataclass(frozen=True)
class LintReport:
    """The lint of one diagram: whether it imports (BPMN 2.0 XML a draft can be made of), whether it can be
    deployed (no error), and every problem found, errors first."""

    process_id: str | None
    imports: bool
    deployable: bool
    problems: tuple[Problem, ...]

    def as_json(self, translate: Callable[[Message], str] = str) -> dict[str, Any]:
        """The report as JSON: ``{"process_id", "imports", "deployable", "problems": [...]}``, the messages
        written by ``translate`` (English by default)."""
        return {
            "process_id": self.process_id,
            "imports": self.imports,
            "deployable": self.deployable,
            "problems": [problem.as_json(translate) for problem in self.problems],
        }

    def of(self, element: str) -> tuple[Problem, ...]:
        """The problems of one element."""
        return tuple(problem for problem in self.problems if problem.element == element)


def make_report(process_id: str | None, imports: bool, problems: Iterable[Problem]) -> LintReport:
    """A report of the problems found, each once (two checks finding the same thing say it once), errors first."""
    unique = list(dict.fromkeys(problems))
    unique.sort(key=lambda p: p.severity != ERROR)
    deployable = imports and not any(p.severity == ERROR for p in unique)
    return LintReport(process_id, imports, deployable, tuple(unique))
