"""one set of lease bookkeeping columns on timer, notification and sandbox_webhook

Every row the scheduler works through under a lease now carries the same columns
(attempts, next_attempt_at, lease_owner, last_error, gave_up_at), read and written
by kitas/services/leases.py only. Rows that had already run out of retries are
marked as given up, so the incidents page finds them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The retry limits in force before this revision (notifications 10 attempts, provider notices 15).
_OLD_NOTICE_ATTEMPTS = 15


def _when() -> sa.Column:
    return sa.Column('gave_up_at', kitas.models.types.UTCDateTime(timezone=True), nullable=True)


def upgrade():
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.alter_column('lease_until', new_column_name='next_attempt_at')
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(_when())
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=100), nullable=True))
        batch_op.add_column(_when())
    with op.batch_alter_table('sandbox_webhook', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=100), nullable=True))
        batch_op.add_column(_when())
        batch_op.alter_column(
            'next_attempt_at', existing_type=kitas.models.types.UTCDateTime(timezone=True), nullable=True
        )
        batch_op.create_index('ix_sandbox_webhook_due', ['delivered_at', 'next_attempt_at'], unique=False)
    _mark_given_up(datetime.now(UTC))


def _mark_given_up(now: datetime) -> None:
    """Before, a given-up outbox row was an unsent one with no next attempt, a notice one past its limit."""
    stamp = kitas.models.types.UTCDateTime(timezone=True)
    notification = sa.table(
        'notification',
        sa.column('channel', sa.String()),
        sa.column('sent_at', stamp),
        sa.column('next_attempt_at', stamp),
        sa.column('gave_up_at', stamp),
    )
    op.execute(
        notification.update()
        .where(
            notification.c.sent_at.is_(None),
            notification.c.channel.in_(('email', 'sms')),
            notification.c.next_attempt_at.is_(None),
        )
        .values(gave_up_at=now)
    )
    webhook = sa.table(
        'sandbox_webhook',
        sa.column('attempts', sa.Integer()),
        sa.column('delivered_at', stamp),
        sa.column('next_attempt_at', stamp),
        sa.column('gave_up_at', stamp),
    )
    op.execute(
        webhook.update()
        .where(webhook.c.delivered_at.is_(None), webhook.c.attempts >= _OLD_NOTICE_ATTEMPTS)
        .values(gave_up_at=now, next_attempt_at=None)
    )
    op.execute(webhook.update().where(webhook.c.delivered_at.is_not(None)).values(next_attempt_at=None))


def downgrade():
    webhook = sa.table(
        'sandbox_webhook',
        sa.column('created_at', kitas.models.types.UTCDateTime(timezone=True)),
        sa.column('next_attempt_at', kitas.models.types.UTCDateTime(timezone=True)),
    )
    op.execute(webhook.update().where(webhook.c.next_attempt_at.is_(None)).values(next_attempt_at=webhook.c.created_at))
    with op.batch_alter_table('sandbox_webhook', schema=None) as batch_op:
        batch_op.drop_index('ix_sandbox_webhook_due')
        batch_op.alter_column(
            'next_attempt_at', existing_type=kitas.models.types.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.drop_column('gave_up_at')
        batch_op.drop_column('lease_owner')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('gave_up_at')
        batch_op.drop_column('lease_owner')
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_column('gave_up_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('attempts')
        batch_op.alter_column('next_attempt_at', new_column_name='lease_until')
