"""Template filters: local time, rupiah, status words, how close a deadline is."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_date
from flask import Flask
from flask_babel import format_decimal
from flask_babel import gettext as _

from ..extensions import app_clock
from ..i18n import (
    country_choices_in_language,
    country_name,
    current_language,
    local_date,
    local_time,
    rupiah,
)
from ..services import catalog as kitas_catalog
from ..services.accounts.fields import country_choices
from .access import ROLE_NAMES


def country_codes() -> frozenset[str]:
    """Every ISO 3166 alpha-2 code the country lists offer."""
    return frozenset(code for code, _ in country_choices())


def file_size(size: int | None) -> str:
    """A file size people read at a glance: ``512 bytes``, ``84 kB``, ``2.4 MB``."""
    if size is None:
        return ""
    if size < 1024:
        return _("%(size)s bytes", size=size)
    if size < 1024 * 1024:
        return f"{round(size / 1024)} kB"
    return f"{format_decimal(round(size / (1024 * 1024), 1), format='0.0')} MB"


def status_label(status: str | None) -> str:
    """The plain words for a case status, in the reader's language."""
    return kitas_catalog.status_text(status, current_language()).label


def status_explanation(status: str | None) -> str:
    """One sentence on what a case status means for the applicant, in the reader's language."""
    return kitas_catalog.status_text(status, current_language()).explanation


def due_state(due: datetime | None, soon_hours: int = 24) -> str:
    """``late``, ``soon`` (within ``soon_hours``) or ``ok``; used to colour deadlines."""
    if due is None:
        return "none"
    now = app_clock().now()
    if due <= now:
        return "late"
    return "soon" if due - now <= timedelta(hours=soon_hours) else "ok"


def day_name(value: date) -> str:
    """A day with its weekday in the reader's language: ``Senin, 26 Januari 2026``."""
    return format_date(value, "EEEE, d MMMM y", locale=current_language())


def clock_time(value: datetime) -> str:
    """The time of a datetime in its own zone (an office's local time), ``14:05``."""
    return value.strftime("%H:%M")


def role_name(role: str | None) -> str:
    """A role in the reader's language (``verifier`` -> ``verifikator``); a task of no lane: the analyst."""
    return str(ROLE_NAMES.get(role or "analyst", role))


def register_filters(app: Flask) -> None:
    """Make the filters available to every template."""
    app.jinja_env.add_extension("jinja2.ext.do")
    # The form macro's `country` widget lists every ISO 3166 country by name.
    app.add_template_global(country_choices_in_language, "countries")
    app.add_template_filter(country_name, "country_name")
    app.add_template_filter(local_date, "local_date")
    app.add_template_global(country_codes, "country_codes")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(rupiah, "rupiah")
    app.add_template_filter(file_size, "file_size")
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(status_explanation, "status_explanation")
    app.add_template_filter(due_state, "due_state")
    app.add_template_filter(day_name, "day_name")
    app.add_template_filter(clock_time, "clock_time")
    app.add_template_filter(role_name, "role_name")
