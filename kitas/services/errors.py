"""Errors services raise; the web layer maps them to pages and status codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from forms.texts import Message, joined

# The database itself failed (unreachable, restarting, or locked for longer than the busy timeout): no
# use case is at fault and trying again shortly will work, so pages answer 503, never a traceback.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


class ServiceError(Exception):
    """Base class: a use case was refused; the message says what went wrong and what to do.

    The message is a ``forms.texts.Message`` (a message id and its parameters), never a sentence put
    together here: the web layer translates it into the reader's language (``kitas.i18n.translate``).
    """

    @property
    def message(self) -> Any:
        """The Message the error was raised with (its English text is ``str(error)``)."""
        return self.args[0] if self.args else ""


class NotFound(ServiceError):
    """The object does not exist, or the caller may not know it exists (shown as 404)."""


class Forbidden(ServiceError):
    """The caller knows the object but may not do this to it."""


class Conflict(ServiceError):
    """Someone else changed the object first; nothing was written."""


class Unavailable(ServiceError):
    """Something the use case needs (the document store) cannot be reached now; trying later may work."""


class InvalidInput(ServiceError):
    """Submitted data failed validation; ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        count = sum(len(v) for v in errors.values())
        super().__init__(Message("the form has %(count)s error(s); nothing was saved", count=count))


class DeploymentRefused(ServiceError):
    """A diagram or one of its files cannot be deployed; ``problems`` names each element."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(
            joined(
                [Message("%(element)s: %(problem)s", element=element, problem=problem) for element, problem in problems]
            )
        )


class CaseStateUnreadable(ServiceError):
    """A stored case state is corrupt or of an unknown format; it is reported, never reset."""


class CaseCannotGoOn(ServiceError):
    """An engine step of a case failed and nothing of it could be kept: the step was rolled back.

    It names the failure so that an incident can be opened for it once the rollback is done.
    """

    def __init__(
        self, message: str, *, application_id: int | None, element_id: str | None, kind: str, error: str
    ) -> None:
        super().__init__(message)
        self.application_id = application_id
        self.element_id = element_id
        self.kind = kind
        self.error = error
