"""What an engine error of a case becomes in the services: a Conflict, an unreadable state, or a step that
cannot go on (rolled back, naming the failure so that its incident can be opened after the rollback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from engine import EngineError, NotWaiting, ScriptError, StateError, TaskNotReady

from ..errors import CaseCannotGoOn, CaseStateUnreadable, Conflict, ServiceError
from ..incidents import records as incidents

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
    if isinstance(exc, TaskNotReady | NotWaiting):
        return Conflict(f"case {reference}: {exc}")
    if isinstance(exc, ScriptError):
        return cannot_go_on(exc, reference, None)
    if isinstance(exc, StateError):
        return CaseStateUnreadable(str(exc))
    return ServiceError(f"case {reference}: {exc}")


def cannot_go_on(exc: ScriptError, reference: str, application_id: int | None) -> CaseCannotGoOn:
    """The rollback of a step whose script failed with nothing to keep, naming the failure for its incident."""
    return CaseCannotGoOn(
        f"case {reference} cannot go on: {exc}; an analyst must fix the diagram",
        application_id=application_id,
        element_id=exc.element_id,
        kind=incidents.kind_of(exc),
        error=str(exc),
    )
