"""Accounts: register, verify e-mail, sign in and out, reset a password."""

from .routes import bp

__all__ = ["bp"]
