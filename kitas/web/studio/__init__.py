"""The analysts' studio: processes and their versions, drafts edited in the browser, import of any
BPMN 2.0 file. Each page module adds its routes to the one blueprint."""

from . import dmn_editor, form_editor, routes
from .blueprint import bp

__all__ = ["bp", "dmn_editor", "form_editor", "routes"]
