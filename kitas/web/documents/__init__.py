"""Serving uploaded documents to the people allowed to see them."""

from .routes import bp

__all__ = ["bp"]
