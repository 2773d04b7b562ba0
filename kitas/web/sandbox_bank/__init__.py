"""The sandbox bank: pays billing codes of the sandbox provider, as a real bank would."""

from .routes import bp

__all__ = ["bp"]
