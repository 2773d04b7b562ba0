"""What an engine error of a case becomes in the services: a Conflict, an unreadable state, or a step that
cannot go on (rolled back, naming the failure so that its incident can be opened after the rollback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from engine import EngineError, NotWaiting, PerformerBarred, ScriptError, StateError, TaskNotReady
from forms.texts import Message

from ..errors import CaseCannotGoOn, CaseStateUnreadable, Conflict, ServiceError
from ..incidents import records as incidents
from .four_eyes import YOU_VERIFIED

T = TypeVar("T")


def guard_engine(action: Callable[[], T], reference: str) -> T:
    """Run an engine call for a case, turning engine errors into service errors that name the case."""
    try:
        return action()
    except ScriptError as exc:
        raise cannot_go_on(exc, reference, None) from exc
    except EngineError as exc:
        raise service_error(exc, reference) from exc


def service_error(exc: EngineError, reference: str) -> ServiceError:
    """The service error an engine error of a case becomes."""
    if isinstance(exc, PerformerBarred):  # the unit of work checks first; this is the engine's own refusal
        return Conflict(YOU_VERIFIED)
    if isinstance(exc, TaskNotReady | NotWaiting):
        return Conflict(Message("case %(reference)s: %(problem)s", reference=reference, problem=_problem(exc)))
    if isinstance(exc, ScriptError):
        return cannot_go_on(exc, reference, None)
    if isinstance(exc, StateError):
        return CaseStateUnreadable(str(exc))
    return ServiceError(Message("case %(reference)s: %(problem)s", reference=reference, problem=_problem(exc)))


def _problem(exc: Exception) -> str:
    """What the engine said: its Message when it gave one (translated at the edge), else its text."""
    said = exc.args[0] if len(exc.args) == 1 else None
    return said if isinstance(said, Message) else str(exc)


def cannot_go_on(exc: ScriptError, reference: str, application_id: int | None) -> CaseCannotGoOn:
    """The rollback of a step whose script failed with nothing to keep, naming the failure for its incident."""
    return CaseCannotGoOn(
        Message(
            "case %(reference)s cannot go on: %(problem)s; an analyst must fix the diagram",
            reference=reference,
            problem=_problem(exc),
        ),
        application_id=application_id,
        element_id=exc.element_id,
        kind=incidents.kind_of(exc),
        error=str(exc),
    )
