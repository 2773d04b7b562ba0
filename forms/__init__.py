"""Forms are data: JSON Schema + UI schema files, loaded, checked, coerced and validated here.

This package imports nothing else from the project, and never Flask or SQLAlchemy.
"""

from forms.coercion import coerce, row_input_name
from forms.loading import check_form, load_form
from forms.spec import ARRAY_OF_OBJECTS, WIDGETS, FormError, FormField, FormSpec, Option
from forms.validation import checked_email, known_data, validate

__all__ = [
    "ARRAY_OF_OBJECTS",
    "WIDGETS",
    "FormError",
    "FormField",
    "FormSpec",
    "Option",
    "check_form",
    "checked_email",
    "coerce",
    "known_data",
    "load_form",
    "row_input_name",
    "validate",
]
