"""Errors the engine raises. Callers translate them; the engine never knows about HTTP."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error raised by the engine package."""


class DiagramError(EngineError):
    """A diagram (or one of its forms or decision tables) cannot be deployed.

    ``problems`` lists ``(element_id, message)`` pairs so that an analyst sees
    every problem of a diagram at once, each named by the element it concerns.
    """

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        text = "; ".join(f"{element}: {message}" for element, message in problems)
        super().__init__(f"the diagram cannot be deployed: {text}")


class ScriptError(EngineError):
    """A script, condition or expression failed, hit its CPU or memory limit, or tried something forbidden.

    ``element_id`` is the BPMN element whose code failed (filled in by the engine when the
    sandbox itself cannot know it); ``variable`` the task-data variable that could not be
    stored, if that was the problem; ``limit`` is ``"cpu"``, ``"memory"`` or ``"time"`` when
    the code was stopped by a limit rather than by its own error.
    """

    def __init__(
        self, message: str, element_id: str | None = None, *, variable: str | None = None, limit: str | None = None
    ):
        self.element_id = element_id
        self.detail = message
        self.variable = variable
        self.limit = limit
        super().__init__(message)

    def __str__(self) -> str:
        where = f" in {self.element_id}" if self.element_id else ""
        return f"script error{where}: {self.detail}"

    def name_element(self, element_id: str | None) -> ScriptError:
        """Record the element the failing code belongs to, unless one is known already; returns self."""
        if self.element_id is None and element_id:
            self.element_id = element_id
        return self


class StateError(EngineError):
    """A stored case state cannot be restored (corrupt, or written by an unknown serializer)."""


class TaskNotReady(EngineError):
    """The task asked for is not a READY user task of this case."""

    def __init__(self, task_id: str, state: str | None):
        self.task_id = task_id
        self.state = state
        what = "does not exist in this case" if state is None else f"is {state}, not READY"
        super().__init__(f"task {task_id} {what}")


class NotWaiting(EngineError):
    """A timer or message was delivered to a case that is no longer waiting for it."""


class PerformerBarred(EngineError):
    """A user task's four-eyes rule (``notByPerformerOf``) keeps this performer from it."""

    def __init__(self, element_id: str, performer: str):
        super().__init__(f"{performer} may not complete {element_id}: the diagram asks for another person (four eyes)")
        self.element_id = element_id
        self.performer = performer
