"""SQLAlchemy models of KITAS Online."""

from .appointment import APPOINTMENT_KINDS, Appointment, AppointmentSlot
from .audit import AuditChain, AuditEvent, AuditSeal, SealedHead
from .case import Application, HumanTask, SavedFilter, Timer
from .definition import ProcessDefinition
from .document import Document
from .group import ApplicationGroup, GroupBill, GroupBillItem
from .incident import INCIDENT_KINDS, Incident
from .milestone import MILESTONE_KINDS, CaseMilestone
from .note import CaseNote
from .notification import Notification, Reminder
from .office import Office, officer_offices
from .payment import Payment, PaymentEvent
from .permit import Permit, PermitCheck
from .sandbox import SandboxBill, SandboxWebhook
from .scheduler import SchedulerHeartbeat
from .security import AuditQuota, LoginAttempt, RecoveryCode, SecondFactor
from .studio import DRAFT_STATUSES, PROPOSAL_STATUSES, DeploymentProposal, StudioDraft
from .user import Role, User, user_roles

__all__ = [
    "APPOINTMENT_KINDS",
    "Appointment",
    "AppointmentSlot",
    "Application",
    "DRAFT_STATUSES",
    "DeploymentProposal",
    "PROPOSAL_STATUSES",
    "StudioDraft",
    "ApplicationGroup",
    "AuditChain",
    "AuditQuota",
    "AuditEvent",
    "AuditSeal",
    "CaseMilestone",
    "CaseNote",
    "Document",
    "GroupBill",
    "GroupBillItem",
    "HumanTask",
    "INCIDENT_KINDS",
    "MILESTONE_KINDS",
    "Incident",
    "LoginAttempt",
    "Notification",
    "Office",
    "Payment",
    "PaymentEvent",
    "Permit",
    "PermitCheck",
    "ProcessDefinition",
    "RecoveryCode",
    "Reminder",
    "Role",
    "SandboxBill",
    "SandboxWebhook",
    "SavedFilter",
    "SchedulerHeartbeat",
    "SealedHead",
    "SecondFactor",
    "Timer",
    "User",
    "officer_offices",
    "user_roles",
]
