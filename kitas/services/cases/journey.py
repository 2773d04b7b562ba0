"""The applicant's journey: the steps of her case's diagram (``engine.outline``, through the shared steps it
calls) marked done, now or next from the case's trace, named in her language, each with whose turn it is.

Drawn from the same diagram and trace as the officers' and analysts' diagram page, but as a list a phone
shows: no drawing, no data, no names of people. The status block asks for it every few seconds, so the
marks are kept per case version (the state changes only with the version counter).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from engine import case_trace
from engine.outline import outline
from forms.texts import Message
from workflows import catalog

from ...models import Application
from ..deployments import element_names, process_model
from ..errors import CaseStateUnreadable
from .unit_of_work import read_runtime

DONE, NOW, NEXT = "done", "now", "next"
# Whose turn a step is, as the applicant reads it.
TURN_WORDS = {
    "applicant": Message("you"),
    "sponsor": Message("your sponsor"),
    "verifier": Message("the immigration office"),
    "supervisor": Message("the immigration office"),
}
_CACHE_SIZE = 1024


@dataclass(frozen=True)
class JourneyStep:
    """One step of the applicant's journey: its name, done / now / next, whose turn, whether every case has it."""

    element_id: str
    name: str
    state: str  # DONE, NOW or NEXT
    who: str | None
    optional: bool


_CACHE: OrderedDict[tuple[int, str, str, int], tuple[tuple[str, str, bool], ...]] = OrderedDict()
_LOCK = threading.Lock()


def applicant_journey(application: Application, language: str | None = None) -> tuple[JourneyStep, ...]:
    """The case's steps in the order a case meets them, marked from where it went and where it is; once it
    ended, only the steps it went through. Empty when the case's state cannot be read (the page then shows
    the status steps of the catalog; the state's problem is an incident of its own)."""
    try:
        marks = _marks(application)
    except CaseStateUnreadable:
        return ()
    names = element_names(application.definition, language)
    lanes = {step.element_id: step.lane for step in outline(process_model(application.definition))}
    cat = catalog()
    return tuple(
        JourneyStep(
            element_id=element,
            name=names.get(element, element),
            state=state,
            who=TURN_WORDS.get(cat.role_for_lane(lanes.get(element, "")) or ""),
            optional=optional,
        )
        for element, state, optional in marks
    )


def _marks(application: Application) -> tuple[tuple[str, str, bool], ...]:
    key = (application.id, application.reference, application.definition.content_hash, application.version)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    marks = _computed(application)
    with _LOCK:
        _CACHE[key] = marks
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return marks


def _computed(application: Application) -> tuple[tuple[str, str, bool], ...]:
    """(element, state, optional) per outline step. A step every case has, done before the case came back
    to an earlier step (a send back to verification after the approval), is next again: it will be done
    once more."""
    steps = outline(process_model(application.definition))
    trace = case_trace(read_runtime(application))
    last_done = {s.element_id: s.when for s in trace.steps if not s.interrupted}
    now = {s.element_id: s.when for s in trace.current if s.kind != "call"}
    position = {step.element_id: index for index, step in enumerate(steps)}
    first_now = min((position[e] for e in now if e in position), default=len(steps))
    since = min((w for w in now.values() if w is not None), default=None)
    marks = []
    for index, step in enumerate(steps):
        element = step.element_id
        if element in now:
            state = NOW
        elif element in last_done:
            done_at = last_done[element]
            # Optional steps that were needed once stay done (a correction round); a step every case has,
            # done before the case came back to an earlier one, comes again.
            back = index > first_now and since is not None and done_at is not None and done_at < since
            redone = back and not step.optional
            state = NEXT if redone else DONE
        else:
            state = NEXT
        if state == NEXT and trace.completed:
            continue  # the case ended without it
        marks.append((element, state, step.optional))
    return tuple(marks)
