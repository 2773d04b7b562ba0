"""Which shared step a file of a draft belongs to: a type's draft carries copies of the files of the steps
its diagram calls (their forms, ``fees.dmn``), and deployment refuses a copy that differs from the step's
deployed one. The editors say so, so the analyst changes the file where it is deployed from."""

from __future__ import annotations

from engine import DiagramError, called_elements

from ...models import StudioDraft
from ..deployments import latest_definition


def shared_step_of(draft: StudioDraft, name: str) -> str | None:
    """The process id of the shared step the draft's diagram calls whose deployed version has ``name``."""
    try:
        called = sorted(set(called_elements(draft.bpmn_xml).values()) - {"", draft.process_id})
    except DiagramError:
        return None
    for process_id in called:
        definition = latest_definition(process_id)
        if definition is not None and name in definition.files:
            return process_id
    return None
