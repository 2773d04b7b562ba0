"""The applicant's pages: dashboard, new application, task forms, case status."""

from .routes import bp

__all__ = ["bp"]
