"""The applicant's payment page: billing code, amount, expiry."""

from .routes import bp

__all__ = ["bp"]
