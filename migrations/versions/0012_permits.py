"""the e-permit: one permit per issued case, and the log of public verification lookups

``permit`` holds what the PDF and the public verification page show (never the passport number or
the address), its validity, issuing office and revocation; ``token_id`` is the random id the signed
verification token carries. ``permit_check`` logs every lookup of ``/verify/<token>`` by address and
time: the per-address rate limit counts these rows (``ix_permit_check_address``).

Revision ID: 0012_permits
Revises: 0011
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = '0012_permits'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'permit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('token_id', sa.String(length=32), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('holder_name', sa.String(length=200), nullable=False),
        sa.Column('nationality', sa.String(length=64), nullable=False),
        sa.Column('date_of_birth', sa.Date(), nullable=True),
        sa.Column('kitas_type', sa.String(length=32), nullable=False),
        sa.Column('index_code', sa.String(length=16), nullable=False),
        sa.Column('sponsor', sa.String(length=200), nullable=True),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('office', sa.String(length=200), nullable=False),
        sa.Column('issued_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', kitas.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('revoke_reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['holder_id'], ['user.id']),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('token_id'),
    )
    op.create_index('ix_permit_holder_id', 'permit', ['holder_id'], unique=False)
    op.create_table(
        'permit_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('permit_id', sa.Integer(), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('checked_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_permit_check_address', 'permit_check', ['address', 'checked_at'], unique=False)
    op.create_index('ix_permit_check_permit_id', 'permit_check', ['permit_id'], unique=False)


def downgrade():
    op.drop_index('ix_permit_check_permit_id', table_name='permit_check')
    op.drop_index('ix_permit_check_address', table_name='permit_check')
    op.drop_table('permit_check')
    op.drop_index('ix_permit_holder_id', table_name='permit')
    op.drop_table('permit')
