"""The administrators' pages: incidents (retry, resolve with a note) and the cases behind them."""

from .routes import bp

__all__ = ["bp"]
