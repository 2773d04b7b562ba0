"""The officers' pages: task inbox, claim, verify, decide."""

from .routes import bp

__all__ = ["bp"]
