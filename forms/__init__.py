"""Forms are data: JSON Schema + UI schema files, loaded, checked, coerced and validated here.

This package imports nothing else from the project, and never Flask or SQLAlchemy.
"""

from forms.coercion import coerce, row_input_name
from forms.loading import check_form, load_form
from forms.rules import FileFacts, RuleContext, check_rules, file_errors, file_rules
from forms.spec import ARRAY_OF_OBJECTS, WIDGETS, FormError, FormField, FormSpec, Option
from forms.validation import checked_email, known_data, validate

__all__ = [
    "ARRAY_OF_OBJECTS",
    "WIDGETS",
    "FormError",
    "FormField",
    "FileFacts",
    "FormSpec",
    "Option",
    "RuleContext",
    "check_form",
    "check_rules",
    "checked_email",
    "coerce",
    "file_errors",
    "file_rules",
    "known_data",
    "load_form",
    "row_input_name",
    "validate",
]
