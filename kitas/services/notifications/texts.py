"""Messages in their reader's language: stored as what is needed to write them, written when they are read.

A notification is kept as a template name and its parameters (JSON), never as a frozen English
sentence: an e-mail or SMS is written when the scheduler sends it, in the recipient's language and
zone; an in-app message when its page is shown, in the reader's. Services hand over
:class:`forms.texts.Message` objects and :class:`MailTemplate` bodies; turning them into words is
the web edge's business (``kitas.i18n``), which services must not import, so the application
registers it here as a :class:`Localizer` at start-up (``app.create_app``). Without one (a
script without the app), texts stay English.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import render_template

from forms.texts import SOURCE_LANGUAGE, Message

from ...models import User


@dataclass(frozen=True)
class MailTemplate:
    """A body written by a text template (``email/password_changed.txt``) with ``params``; the template
    also gets ``user``, the reader."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """What a notification says: a subject (a Message, or words that need no translation) and a body."""

    subject: str
    body: str | MailTemplate


# A registered text: (the row's parameters, the reader's language) -> what it says, written inside
# the reader's language (``localized`` translates a Message there).
Writer = Callable[[dict[str, Any], str], Notice]


@dataclass(frozen=True)
class Localizer:
    """How texts are put in a language: the application gives ``kitas.i18n``'s functions."""

    # Texts and times in (language, zone) inside the block; None: the defaults (Indonesian, WIB).
    scope: Callable[[str | None, str | None], AbstractContextManager[Any]]
    # A Message (and its Message parameters) in the current language; other values unchanged.
    text: Callable[[Any], Any]
    # The current language's code (``id``, ``en``).
    language: Callable[[], str]
    # A datetime in the reader's zone and language, a date in their language; other values unchanged.
    value: Callable[[Any], Any] = str


_ENGLISH = Localizer(scope=lambda language, zone: nullcontext(), text=lambda value: value, language=lambda: "en")
_localizer = _ENGLISH


def use_localizer(localizer: Localizer) -> None:
    """Translate notifications with ``localizer`` (the application registers ``kitas.i18n``'s)."""
    global _localizer
    _localizer = localizer


@contextmanager
def in_language_of(user: User | None) -> Iterator[str]:
    """Texts in ``user``'s language and zone inside the block (no user or no setting: Indonesian, WIB);
    yields the language's code."""
    language = getattr(user, "language", None)
    zone = getattr(user, "time_zone", None)
    with _localizer.scope(language, zone):
        yield _localizer.language()


@contextmanager
def in_source_language() -> Iterator[str]:
    """Texts in English (the message ids) inside the block: what is stored for logs and searches."""
    with _localizer.scope(SOURCE_LANGUAGE, None):
        yield _localizer.language()


def current_language() -> str:
    """The language texts are written in right now."""
    return _localizer.language()


def localized(value: Any) -> str:
    """``value`` (a Message, or words needing no translation) in the current language."""
    return str(_localizer.text(value))


def shown(value: Any) -> str:
    """A datetime or date as the current reader reads it (their zone and language); others as text."""
    return str(_localizer.value(value))


def written(notice: Notice, reader: User | None) -> tuple[str, str]:
    """(subject, body) of ``notice`` in the current language; a template body is rendered for ``reader``."""
    subject = localized(notice.subject)
    if isinstance(notice.body, MailTemplate):
        body = render_template(notice.body.name, user=reader, **notice.body.params)
    else:
        body = localized(notice.body)
    return subject, body


# --- keeping texts as JSON --------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """``value`` as JSON data: a Message, a MailTemplate, datetimes and dates kept apart from plain text."""
    if isinstance(value, Message):
        return {"$message": value.msgid, "params": encode(value.params)}
    if isinstance(value, MailTemplate):
        return {"$template": value.name, "params": encode(value.params)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def decode(value: Any) -> Any:
    """What :func:`encode` kept, back as Messages, MailTemplates, datetimes and dates."""
    if isinstance(value, dict):
        if "$message" in value:
            return Message(str(value["$message"]), **decode(value.get("params") or {}))
        if "$template" in value:
            return MailTemplate(str(value["$template"]), decode(value.get("params") or {}))
        if "$datetime" in value:
            return datetime.fromisoformat(str(value["$datetime"]))
        if "$date" in value:
            return date.fromisoformat(str(value["$date"]))
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value
