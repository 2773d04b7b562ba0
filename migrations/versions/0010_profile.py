"""profile settings and personal-data rights: notification channels, a pending e-mail change, erasure

Each person chooses whether case news also reaches them by e-mail and by SMS (in-app messages always
do). A new e-mail address waits in ``pending_email`` until the link sent to it is opened; the random
``pending_email_nonce`` makes each link one-time (a newer request or the confirmation replaces it).
``erased_at`` marks an account whose personal data was erased at its owner's request (UU PDP 27/2022):
the row stays, emptied, because cases and the audit trail point at it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN, not batch mode: SQLite would copy the table, and the rows that point
    # at users refuse that (a constant default makes NOT NULL columns possible without the copy).
    op.add_column('user', sa.Column('notify_email', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column('user', sa.Column('notify_sms', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column('user', sa.Column('pending_email', sa.String(length=254), nullable=True))
    op.add_column('user', sa.Column('pending_email_nonce', sa.String(length=32), nullable=True))
    op.add_column('user', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Not in batch mode: SQLite would copy the table, and the rows that point at users refuse that.
    op.drop_column('user', 'erased_at')
    op.drop_column('user', 'pending_email_nonce')
    op.drop_column('user', 'pending_email')
    op.drop_column('user', 'notify_sms')
    op.drop_column('user', 'notify_email')
