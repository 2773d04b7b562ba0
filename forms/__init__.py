"""Forms are data: JSON Schema + UI schema files, loaded, checked, coerced and validated here.

This package imports nothing else from the project, and never Flask or SQLAlchemy.
"""

from forms.coercion import coerce, row_input_name
from forms.loading import FormStore, check_form, form_name, load_form, ui_file_for
from forms.spec import ARRAY_OF_OBJECTS, WIDGETS, FormError, FormField, FormSpec, Option
from forms.validation import clean, known_data, validate

__all__ = [
    "ARRAY_OF_OBJECTS",
    "WIDGETS",
    "FormError",
    "FormField",
    "FormSpec",
    "FormStore",
    "Option",
    "check_form",
    "clean",
    "coerce",
    "form_name",
    "known_data",
    "load_form",
    "row_input_name",
    "ui_file_for",
    "validate",
]
