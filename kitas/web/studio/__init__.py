"""The analysts' studio: processes and their versions, drafts edited in the browser, import of any
BPMN 2.0 file. Each page module adds its routes to the one blueprint."""

from . import case_diagram, checks, dmn_editor, form_editor, modeler, review, routes, trial
from .blueprint import bp

__all__ = ["bp", "case_diagram", "checks", "dmn_editor", "form_editor", "modeler", "review", "routes", "trial"]
