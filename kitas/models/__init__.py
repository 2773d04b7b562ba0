"""SQLAlchemy models of KITAS Online."""

from .audit import AuditEvent, AuditHead
from .case import Application, HumanTask, Timer
from .definition import ProcessDefinition
from .user import Role, User, user_roles

__all__ = [
    "Application",
    "AuditEvent",
    "AuditHead",
    "HumanTask",
    "ProcessDefinition",
    "Role",
    "Timer",
    "User",
    "user_roles",
]
