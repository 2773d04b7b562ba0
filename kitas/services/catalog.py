"""The KITAS catalog as the pages read it: the types, which can be applied for online, and status words.

The catalog itself is data (``workflows/kitas_types.json``, its Indonesian texts beside it in
``kitas_types.id.json``); the web layer reads it through here, so that the pages depend on
services only. Every text comes in the ``language`` asked for (English without one); services
never read the request, so the caller says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from forms.texts import Message
from workflows import KitasType, RequiredDocument, StatusText, catalog

from .errors import NotFound
from .offices.directory import provinces


def kitas_types(language: str | None = None) -> tuple[KitasType, ...]:
    """Every KITAS type of the catalog, in its order, its texts in ``language``."""
    return catalog(language).types


def startable_types(language: str | None = None) -> list[KitasType]:
    """The types that can be applied for online (they have a diagram)."""
    return [t for t in catalog(language).types if t.process_id]


def kitas_type(code: str, language: str | None = None) -> KitasType:
    """The type with this code (``worker``); NotFound if there is none."""
    try:
        return catalog(language).by_code(code)
    except KeyError as exc:
        raise NotFound(Message("There is no KITAS type %(code)s.", code=code)) from exc


@dataclass(frozen=True)
class StartForm:
    """The applicant's start page of a type: the index codes to choose from and the provinces."""

    type: KitasType
    provinces: tuple[str, ...]


def start_form(code: str, language: str | None = None) -> StartForm:
    """What the start page of type ``code`` asks: its index code (when it has several) and the province
    the applicant will live in (the case's office comes from it); NotFound for an unknown type."""
    return StartForm(kitas_type(code, language), tuple(provinces()))


def type_name(code: str, language: str | None = None) -> str:
    """A type's name in ``language`` with its index code: ``Work KITAS (E23)`` / ``ITAS Bekerja (E23)``;
    an unknown code as it is."""
    try:
        entry = catalog(language).by_code(code)
    except KeyError:
        return code
    return f"{entry.name} ({entry.index_code})"


def documents(code: str, language: str | None = None) -> tuple[RequiredDocument, ...]:
    """The documents a type asks for, their names in ``language`` (none for an unknown code)."""
    try:
        return catalog(language).by_code(code).documents
    except KeyError:
        return ()


def sponsor_words(code: str, language: str | None = None) -> str:
    """Who sponsors a type, in ``language`` (``employer company`` / ``perusahaan pemberi kerja``)."""
    try:
        return catalog(language).by_code(code).sponsor
    except KeyError:
        return ""


def status_text(status: str | None, language: str | None = None) -> StatusText:
    """The plain words for a case status in ``language`` (English without one; an unknown one humanized)."""
    return catalog(language).status_text(status or "")


def message_text(message: str, language: str | None = None) -> str | None:
    """How a BPMN message a case received is told in its history (``Payment received``), if the catalog says."""
    return catalog(language).messages.get(message)


def sponsor_notice(status: str, words: Mapping[str, str], language: str | None = None) -> tuple[str, str] | None:
    """The (subject, body) the named sponsor gets when a case reaches ``status``, in ``language``, with
    ``words`` (``reference``, ``applicant``) filled in; None when the status asks nothing of the sponsor."""
    notice = catalog(language).status_text(status).notify_sponsor
    if not notice:
        return None
    try:
        return notice["subject"].format(**words), notice["body"].format(**words)
    except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder: the English words
        english = catalog().status_text(status).notify_sponsor or {}
        return english["subject"].format(**words), english["body"].format(**words)
