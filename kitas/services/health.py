"""What an operator wants to know at a glance."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import app_clock, db
from ..models import AuditEvent, ProcessDefinition, Timer
from .heartbeats import scheduler_status


def service_health() -> dict[str, Any]:
    """Database reachability, newest deployed version per process, pending and overdue timers, and
    whether a scheduler is alive (one beat within a few heartbeat intervals)."""
    try:
        versions = dict(
            db.session.execute(
                select(ProcessDefinition.process_id, func.max(ProcessDefinition.version)).group_by(
                    ProcessDefinition.process_id
                )
            ).all()
        )
        pending = db.session.scalar(select(func.count()).where(Timer.status == "pending")) or 0
        overdue = (
            db.session.scalar(select(func.count()).where(Timer.status == "pending", Timer.due_at < app_clock().now()))
            or 0
        )
        schedulers = scheduler_status(float(current_app.config["KITAS_SCHEDULER_HEARTBEAT"]))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return {"database": f"error: {exc.__class__.__name__}"}
    finally:
        db.session.rollback()
    return {
        "database": "ok",
        "processes": versions,
        "timers_pending": pending,
        "timers_overdue": overdue,
        "scheduler": {
            "state": schedulers.state,
            "alive": schedulers.alive,
            "last_beat": schedulers.last_beat.isoformat() if schedulers.last_beat else None,
        },
    }


def ping_database() -> int:
    """Read one index entry (the newest audit row's id: how many rows the trail has grown by)."""
    try:
        return int(db.session.scalar(select(func.max(AuditEvent.id))) or 0)
    finally:
        db.session.rollback()
