"""Task names as people read them: the name the diagram gives a task, in the reader's language.

``human_task.name`` keeps the English name of the deployed diagram; the translation comes from the
deployed version's translations by element id, at display time, so that changing a translation
never rewrites open tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from ...extensions import db
from ...models import HumanTask, ProcessDefinition
from ..deployments import element_names
from ..deployments.versions import TRANSLATED


class NamedTask:
    """A read-only view of a task row whose ``name`` is in the reader's language; every other
    attribute is the row's (``row`` is the row itself, its English name untouched)."""

    def __init__(self, row: HumanTask, name: str):
        self.row = row
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.row, attribute)

    def __repr__(self) -> str:
        return f"NamedTask({self.row!r}, {self.name!r})"


def names_by_definition(definition_ids: Iterable[int], language: str | None) -> dict[int, dict[str, str]]:
    """For each deployed version: element id -> its name in ``language`` (none asked in English)."""
    if language not in TRANSLATED:
        return {}
    found: dict[int, dict[str, str]] = {}
    for definition_id in set(definition_ids):
        definition = db.session.get(ProcessDefinition, definition_id)
        if definition is not None:
            found[definition_id] = element_names(definition, language)
    return found


def task_name(task: HumanTask, names: dict[str, str] | None) -> str:
    """A task's name from ``names`` (element id -> name), else the English one it was stored with."""
    return (names or {}).get(task.element_id, task.name)


def named_tasks(tasks: Sequence[HumanTask], definitions: dict[int, int], language: str | None) -> list[HumanTask]:
    """The tasks, named in ``language``; ``definitions`` maps each task's case id to its deployed version.

    In English (or without translations) the rows themselves; else views of them (typed as rows:
    pages only read them)."""
    names = names_by_definition(definitions.values(), language)
    if not names:
        return list(tasks)
    return [localized(task, names.get(definitions.get(task.application_id, -1))) for task in tasks]


def localized(task: HumanTask, names: dict[str, str] | None) -> HumanTask:
    """One task, its name from ``names``; the row itself when the name is the same."""
    name = task_name(task, names)
    return task if name == task.name else cast(HumanTask, NamedTask(task, name))
