"""indexes for one case's tasks and timers (dashboards and status pages)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Without them, looking up one case's open tasks and timers scans every pending row of the
    # database (SQLite prefers the inbox and scheduler indexes, which also give the sort order).
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_case', ['application_id', 'role', 'created_at'], unique=False)
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.create_index('ix_timer_case', ['application_id', 'status', 'due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_index('ix_timer_case')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_case')
