"""Flask extensions, created unbound and bound in create_app."""

from __future__ import annotations

from flask import current_app
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from engine import Clock


class Base(DeclarativeBase):
    """Declarative base of every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


def app_clock() -> Clock:
    """The clock of the running application (a ManualClock in tests)."""
    clock: Clock = current_app.extensions["kitas_clock"]
    return clock
