"""The officers' pages: task inbox, claim, verify, decide; the supervisors' dashboard and late work."""

from . import case_diagram, dashboard
from .routes import bp

__all__ = ["bp", "case_diagram", "dashboard"]
