"""supervisors' dashboard: the case_milestone projection, and why a task was escalated

``case_milestone`` holds a case's milestones (paid, corrections requested, decided, completed, an
officer's decision), written by the unit of work's save; the dashboard's figures read it and never a
workflow state. ``human_task.escalated_by`` names the diagram's timer that escalated the task, and
``ix_human_task_step_office`` counts open and late tasks per step and office from the index alone.

The backfill takes what the audit trail and the case rows already say: ``paid`` from the first
``payment_confirmed`` row of each case, ``completed`` from ``closed_at`` (with the final status), and
``officer_decision`` from ``task_completed`` rows of officers. Requests for corrections and decisions
are changes of status that the audit rows do not name, so they are counted from this revision on.

Revision ID: 0018_dashboard
Revises: 0017_case_notes
Create Date: 2026-12-01

"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

revision = "0018_dashboard"
down_revision = "0017_case_notes"
branch_labels = None
depends_on = None

OFFICER_ROLES = ("verifier", "supervisor")


def upgrade():
    op.create_table(
        "case_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kitas_type", sa.String(length=32), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("element_id", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_milestone_kind_day", "case_milestone", ["kind", "day"], unique=False)
    op.create_index("ix_case_milestone_case", "case_milestone", ["application_id", "kind"], unique=False)
    # Plain ADD COLUMN (no table copy on SQLite: many tables point at human_task's case).
    op.add_column("human_task", sa.Column("escalated_by", sa.String(length=100), nullable=True))
    op.create_index("ix_human_task_step_office", "human_task", ["element_id", "office_id", "due_at"], unique=False)
    _backfill(op.get_bind())


def _backfill(bind):
    zones = {row.id: row.time_zone for row in bind.execute(sa.text("SELECT id, time_zone FROM office"))}
    cases = {
        row.id: row
        for row in bind.execute(sa.text("SELECT id, kitas_type, office_id, status, closed_at FROM application"))
    }
    rows = []

    def add(application_id, kind, at, actor_id=None, element_id=None):
        case = cases.get(application_id)
        if case is None or at is None:
            return
        at = _aware(at)
        zone = ZoneInfo(zones.get(case.office_id) or "Asia/Jakarta")
        rows.append(
            {
                "application_id": application_id,
                "kind": kind,
                "at": at,
                "day": at.astimezone(zone).date(),
                "actor_id": actor_id,
                "kitas_type": case.kitas_type,
                "office_id": case.office_id,
                "element_id": element_id,
                "reason": None,
            }
        )

    # Paid: the provider's confirmed notice, or the payment message delivered to the case (the first of either).
    paid = {}
    notices = bind.execute(
        sa.text(
            "SELECT application_id, occurred_at, action, detail FROM audit_event "
            "WHERE action IN ('payment_confirmed', 'message_delivered') AND application_id IS NOT NULL "
            "ORDER BY id"
        )
    )
    for row in notices:
        detail = row.detail if isinstance(row.detail, dict) else _json(row.detail)
        if row.action == "message_delivered" and detail.get("message") != "payment_received":
            continue
        paid.setdefault(row.application_id, row.occurred_at)
    for application_id, at in paid.items():
        add(application_id, "paid", at)
    for case in cases.values():
        if case.closed_at is not None:
            add(case.id, "completed", case.closed_at, element_id=case.status)
    officers = {
        row.user_id
        for row in bind.execute(
            sa.text(
                "SELECT user_role.user_id FROM user_role JOIN role ON role.id = user_role.role_id "
                "WHERE role.name IN (:a, :b)"
            ),
            {"a": OFFICER_ROLES[0], "b": OFFICER_ROLES[1]},
        )
    }
    done = bind.execute(
        sa.text(
            "SELECT application_id, occurred_at, actor_id, detail FROM audit_event "
            "WHERE action = 'task_completed' AND application_id IS NOT NULL AND actor_id IS NOT NULL"
        )
    )
    for row in done:
        if row.actor_id in officers:
            detail = row.detail if isinstance(row.detail, dict) else _json(row.detail)
            add(row.application_id, "officer_decision", row.occurred_at, row.actor_id, detail.get("task"))
    if rows:
        types = {"at": sa.DateTime(), "day": sa.Date()}
        table = sa.table("case_milestone", *(sa.column(name, types.get(name)) for name in rows[0]))
        if bind.dialect.name == "sqlite":
            for row in rows:  # SQLite stores naive UTC (the models' UTCDateTime)
                row["at"] = row["at"].astimezone(UTC).replace(tzinfo=None)
        op.bulk_insert(table, rows)


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json(text):
    import json

    try:
        return json.loads(text or "{}")
    except ValueError:
        return {}


def downgrade():
    op.drop_index("ix_human_task_step_office", table_name="human_task")
    op.drop_column("human_task", "escalated_by")
    op.drop_index("ix_case_milestone_case", table_name="case_milestone")
    op.drop_index("ix_case_milestone_kind_day", table_name="case_milestone")
    op.drop_table("case_milestone")
