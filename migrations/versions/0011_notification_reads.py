"""the notification centre and reminders: an index for the bell's unread count, the reminders sent

Every page shows the signed-in person's unread in-app messages in the top bar; the count reads one
range of ``ix_notification_unread`` (person, channel, read or not). ``reminder`` holds one row per
reminder the catalog's rules call for (a billing code about to expire, a correction deadline, a
sponsor who has not answered, an appointment tomorrow): unique per (case, rule, subject), so each is
sent once whatever the number of schedulers; ``ix_reminder_due`` is how the scheduler finds the due ones.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_notification_unread', 'notification', ['user_id', 'channel', 'read_at'], unique=False)
    op.create_table(
        'reminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=False),
        sa.Column('due_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('event_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('done_at', kitas.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id', 'rule', 'subject', name='uq_reminder_subject'),
    )
    op.create_index('ix_reminder_due', 'reminder', ['status', 'due_at'], unique=False)


def downgrade():
    op.drop_index('ix_reminder_due', table_name='reminder')
    op.drop_table('reminder')
    op.drop_index('ix_notification_unread', table_name='notification')
