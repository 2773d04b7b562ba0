"""What a permit says in a reader's language: type, office and country names, dates, the masked name."""

from __future__ import annotations

import gettext
from functools import lru_cache

import pycountry

from workflows import catalog

from ...models import Application, Permit
from ..deployments import definition_form, process_model

OFFICE_FIELD = "office"


def type_name(permit: Permit, language: str) -> str:
    """The permit's KITAS type in ``language`` (its code when the catalog no longer has it)."""
    try:
        return catalog(language).by_code(permit.kitas_type).name
    except KeyError:
        return permit.kitas_type


def office_name(application: Application, office: str, language: str) -> str:
    """The issuing office as the case's booking form names it in ``language``; the stored value otherwise."""
    definition = application.definition
    for info in process_model(definition).user_tasks.values():
        if not info.form_schema:
            continue
        form = definition_form(definition, info.form_schema, info.form_ui_schema, language)
        for item in form.fields:
            if item.name == OFFICE_FIELD and item.options:
                for option in item.options:
                    if option.form_value == office:
                        return str(option.label)
    return office


@lru_cache(maxsize=4)
def _countries(language: str) -> dict[str, str]:
    names = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
    return {country.alpha_2: names.gettext(country.name) for country in pycountry.countries}


def country_name(code: str, language: str) -> str:
    """A nationality's country by its name in ``language`` (``Brasil``/``Brazil``); the code if unknown."""
    return _countries(language).get(code.upper(), code) if code else ""


def masked_name(name: str) -> str:
    """A name as a checker sees it: each part's first letter, the rest starred (``J*** D**``)."""
    parts = [part for part in name.split() if part]
    return " ".join(part[0] + "*" * (len(part) - 1) for part in parts) or "—"
