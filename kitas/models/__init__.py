"""SQLAlchemy models of KITAS Online."""

from .audit import AuditChain, AuditEvent, AuditSeal, SealedHead
from .case import Application, HumanTask, Timer
from .definition import ProcessDefinition
from .document import Document
from .notification import Notification
from .payment import Payment, PaymentEvent
from .sandbox import SandboxBill, SandboxWebhook
from .scheduler import SchedulerHeartbeat
from .security import LoginAttempt
from .user import Role, User, user_roles

__all__ = [
    "Application",
    "AuditChain",
    "AuditEvent",
    "AuditSeal",
    "Document",
    "HumanTask",
    "LoginAttempt",
    "Notification",
    "Payment",
    "PaymentEvent",
    "ProcessDefinition",
    "Role",
    "SandboxBill",
    "SandboxWebhook",
    "SchedulerHeartbeat",
    "SealedHead",
    "Timer",
    "User",
    "user_roles",
]
