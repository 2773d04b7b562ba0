"""Callbacks from outside providers (payment notifications), authenticated by signature."""

from .routes import bp

__all__ = ["bp"]
