"""The sponsor's pages: guarantees to confirm or decline."""

from .routes import bp

__all__ = ["bp"]
