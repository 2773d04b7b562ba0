"""Reminders before a deadline or after a wait: a billing code about to expire, a correction deadline,
a sponsor who has not answered, an appointment tomorrow. The rules are the catalog's (``reminders``
in ``workflows/kitas_types.json``, their words in Indonesian beside it); the scheduler plans a row per
subject from the timer and human_task projections and the case data, and sends each once through the
notification outbox. Calls cases/ (to read a case's data) and notifications/.
"""

from .due import REMINDER, plan_reminders, replan_date_reminders, send_due_reminders, send_reminders

__all__ = ["REMINDER", "plan_reminders", "replan_date_reminders", "send_due_reminders", "send_reminders"]
