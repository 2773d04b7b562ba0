"""scheduler heartbeats, and an index for the scheduler's next wake-up

Each scheduler process (and the one embedded in a web process) records its last
beat in scheduler_heartbeat, so /health can tell whether any scheduler is alive.
ix_timer_retry finds the earliest lease or retry of a pending timer without
scanning every pending timer (the scheduler reads it after every pass).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduler_heartbeat',
        sa.Column('owner', sa.String(length=100), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('embedded', sa.Boolean(), nullable=False),
        sa.Column('started_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('beat_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('owner'),
    )
    with op.batch_alter_table('scheduler_heartbeat', schema=None) as batch_op:
        batch_op.create_index('ix_scheduler_heartbeat_beat', ['beat_at'], unique=False)
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.create_index('ix_timer_retry', ['status', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_index('ix_timer_retry')
    with op.batch_alter_table('scheduler_heartbeat', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduler_heartbeat_beat')
    op.drop_table('scheduler_heartbeat')
