"""Accounts: register, verify e-mail, sign in (password, then the second factor) and out, reset a password."""

from . import profile, second_factor  # noqa: F401  (their routes join the blueprint)
from .routes import bp

__all__ = ["bp"]
