"""Pages anyone may see."""

from .routes import bp

__all__ = ["bp"]
