"""Two languages: which one a person reads, and texts, times, money and countries in it.

The language is the signed-in user's setting, else the ``kitas_lang`` cookie (the switch on every
page), else the browser's ``Accept-Language``, else Indonesian. Work done without a request (an
e-mail the scheduler sends) runs under ``in_language(user.language)``. Texts come from gettext
catalogs (``kitas/translations/<lang>/LC_MESSAGES/messages.po``, English message ids); services
hand over :class:`forms.texts.Message` objects that are translated here, at the edge.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pycountry
from babel.dates import format_date, format_datetime
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, get_timezone, gettext, refresh
from flask_login import current_user

from forms.texts import LANGUAGES, Message, translated

from .money import rupiah

__all__ = [
    "DEFAULT_LANGUAGE",
    "DEFAULT_TIME_ZONE",
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "TIME_ZONES",
    "Message",
    "country_choices_in_language",
    "country_name",
    "current_language",
    "in_language",
    "init_i18n",
    "language_name",
    "local_date",
    "local_time",
    "rupiah",
    "translate",
]

DEFAULT_LANGUAGE = "id"
LANGUAGE_COOKIE = "kitas_lang"
DEFAULT_TIME_ZONE = "Asia/Jakarta"
# Indonesia's three zones and the abbreviations people use for them.
TIME_ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
TRANSLATIONS = Path(__file__).with_name("translations")


def init_i18n(app: Flask) -> None:
    """Flask-Babel with our selectors, and the template helpers every page uses."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIME_ZONE)
    Babel(
        app,
        locale_selector=_select_language,
        timezone_selector=_select_time_zone,
        default_translation_directories=str(TRANSLATIONS),
    )
    # Each request chooses again: a request inside an app context that is already pushed (a test's, or
    # a CLI command's) would otherwise keep the language and zone cached by the one before it.
    app.before_request(refresh)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.add_template_filter(translate, "t")
    app.add_template_global(current_language, "current_language")
    app.add_template_global(language_name, "language_name")
    app.add_template_global(lambda: LANGUAGES, "languages")
    app.add_template_global(time_zone_name, "time_zone_name")


def _select_language() -> str:
    forced = getattr(g, "_kitas_language", None)
    if forced:
        return str(forced)
    if not has_request_context():
        return DEFAULT_LANGUAGE
    user = current_user
    chosen = getattr(user, "language", None) if getattr(user, "is_authenticated", False) else None
    if chosen in LANGUAGES:
        return str(chosen)
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return str(cookie)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def _select_time_zone() -> str:
    forced = getattr(g, "_kitas_time_zone", None)
    if forced:
        return str(forced)
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        zone = getattr(current_user, "time_zone", None)
        if zone in TIME_ZONES:
            return str(zone)
    return DEFAULT_TIME_ZONE


def current_language() -> str:
    """The language of this request (or of the ``in_language`` block)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


@contextmanager
def in_language(language: str | None, time_zone: str | None = None) -> Iterator[None]:
    """Texts and times in ``language`` (else Indonesian) and ``time_zone`` (else WIB) inside the block."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    zone = time_zone if time_zone in TIME_ZONES else DEFAULT_TIME_ZONE
    saved = getattr(g, "_kitas_language", None), getattr(g, "_kitas_time_zone", None)
    g._kitas_language, g._kitas_time_zone = language, zone
    ctx = getattr(g, "_flask_babel", None)
    saved_zone = getattr(ctx, "babel_tzinfo", None) if ctx is not None else None
    if ctx is not None and hasattr(ctx, "babel_tzinfo"):
        del ctx.babel_tzinfo
    try:
        with force_locale(language):
            yield
    finally:
        g._kitas_language, g._kitas_time_zone = saved
        ctx = getattr(g, "_flask_babel", None)
        if ctx is not None:
            if saved_zone is None:
                ctx.__dict__.pop("babel_tzinfo", None)
            else:
                ctx.babel_tzinfo = saved_zone


def translate(value: Any) -> Any:
    """A service's Message (or a list of them) in the current language; other values unchanged.

    A datetime parameter is shown in the reader's zone, a date in their language."""
    return translated(value, gettext, _parameter)


def _parameter(value: Any) -> Any:
    return local_value(value)


def local_value(value: Any) -> Any:
    """A datetime in the reader's zone and language, a date in their language; other values unchanged."""
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return local_date(value)
    return value


def language_name(code: str) -> str:
    """A language's own name: ``Bahasa Indonesia``, ``English``."""
    return {"id": "Bahasa Indonesia", "en": "English"}.get(code, code)


def time_zone_name() -> str:
    """The reader's zone in words: ``Western Indonesian Time (WIB)``."""
    zone = str(_zone().key)
    names = {
        "Asia/Jakarta": gettext("Western Indonesian Time (WIB)"),
        "Asia/Makassar": gettext("Central Indonesian Time (WITA)"),
        "Asia/Jayapura": gettext("Eastern Indonesian Time (WIT)"),
    }
    return names.get(zone, zone)


def _zone() -> ZoneInfo:
    zone = get_timezone()
    return ZoneInfo(str(zone)) if zone is not None else ZoneInfo(DEFAULT_TIME_ZONE)


def local_time(value: datetime | None, with_time: bool = True) -> str:
    """A UTC datetime in the reader's zone and language: ``1 Des 2026 14.05 WIB`` / ``1 Dec 2026, 14:05 WIB``."""
    if value is None:
        return ""
    zone = _zone()
    local = value.astimezone(zone)
    language = current_language()
    if not with_time:
        return format_date(local.date(), "d MMM y", locale=language)
    text = format_datetime(local, "d MMM y, HH:mm", tzinfo=zone, locale=language)
    return f"{text} {TIME_ZONES.get(str(zone.key), local.strftime('%Z'))}"


def local_date(value: date | str | None) -> str:
    """A calendar date (a ``date`` or ISO text) in the reader's language: ``1 Desember 2026``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        day = value
    return format_date(day, "d MMMM y", locale=current_language())


@lru_cache(maxsize=8)
def _country_names(language: str) -> dict[str, str]:
    import gettext as gettext_module

    names = gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
    return {c.alpha_2: names.gettext(c.name) for c in pycountry.countries}


def country_name(code: str | None) -> str:
    """A country by its name in the reader's language (``Filipina``/``Philippines``), never ``PH``."""
    if not code:
        return ""
    return _country_names(current_language()).get(code.upper(), code)


def country_choices_in_language() -> list[tuple[str, str]]:
    """Every country as (alpha-2 code, name in the reader's language), sorted by that name."""
    return sorted(_country_names(current_language()).items(), key=lambda item: item[1].casefold())
