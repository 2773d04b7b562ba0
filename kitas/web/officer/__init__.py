"""The officers' pages: task inbox, claim, verify, decide; the supervisors' dashboard and late work."""

from . import dashboard
from .routes import bp

__all__ = ["bp", "dashboard"]
