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
    """A script, condition or expression failed or tried something the sandbox forbids."""

    def __init__(self, message: str, element_id: str | None = None):
        self.element_id = element_id
        self.detail = message
        where = f" in {element_id}" if element_id else ""
        super().__init__(f"script error{where}: {message}")


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
