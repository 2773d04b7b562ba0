"""group applications: one sponsor, one case per person, combined bills; the sponsor's kind on each case

A sponsor (a company or a person) starts applications for several people at once: ``application_group``
keeps the sponsor and the sponsor data given once; each member's case points at it (``group_id``).
``group_bill`` is one billing code that pays every member's fee when the payment provider allows it,
``group_bill_item`` one case's share and whether its case received the payment. ``sponsor_kind`` on the
case (company, institution, person) is what the individual sponsor's limit counts.

Revision ID: 0013_groups
Revises: 0011 (the lead changes this to 0012_permits when merging)
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = '0013_groups'
down_revision = '0012_permits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'application_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=32), nullable=False),
        sa.Column('kitas_type', sa.String(length=32), nullable=False),
        sa.Column('sponsor_id', sa.Integer(), nullable=False),
        sa.Column('sponsor_kind', sa.String(length=16), nullable=True),
        sa.Column('sponsor_data', sa.JSON(), nullable=False),
        sa.Column('members', sa.JSON(), nullable=False),
        sa.Column('created_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['sponsor_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reference'),
    )
    op.create_index('ix_application_group_sponsor_id', 'application_group', ['sponsor_id'], unique=False)
    # Plain ADD COLUMN (no table copy on SQLite: many tables point at application).
    op.add_column('application', sa.Column('sponsor_kind', sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with an inline reference, but Alembic cannot say it without a table copy.
        op.execute('ALTER TABLE application ADD COLUMN group_id INTEGER REFERENCES application_group (id)')
    else:
        op.add_column('application', sa.Column('group_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_application_group', 'application', 'application_group', ['group_id'], ['id'])
    op.create_index('ix_application_group_id', 'application', ['group_id'], unique=False)
    # The individual sponsor's limit counts the open cases naming an address.
    op.create_index('ix_application_sponsor_open', 'application', ['sponsor_email', 'closed_at'], unique=False)
    op.create_table(
        'group_bill',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('billing_code', sa.String(length=40), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('expires_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('paid_at', kitas.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('provider_ref', sa.String(length=100), nullable=True),
        sa.Column('event_id', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['group_id'], ['application_group.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('billing_code'),
    )
    op.create_index('ix_group_bill_group_id', 'group_bill', ['group_id'], unique=False)
    op.create_table(
        'group_bill_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bill_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('delivered_at', kitas.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['bill_id'], ['group_bill.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('bill_id', 'application_id', name='uq_group_bill_item'),
    )
    op.create_index('ix_group_bill_item_case', 'group_bill_item', ['application_id'], unique=False)


def downgrade():
    op.drop_index('ix_group_bill_item_case', table_name='group_bill_item')
    op.drop_table('group_bill_item')
    op.drop_index('ix_group_bill_group_id', table_name='group_bill')
    op.drop_table('group_bill')
    op.drop_index('ix_application_sponsor_open', table_name='application')
    op.drop_index('ix_application_group_id', table_name='application')
    # Not in batch mode: SQLite would copy the table, and the rows that point at cases refuse that.
    # SQLite (3.35+) drops a column that no index names; its inline reference goes with it.
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_application_group', 'application', type_='foreignkey')
    op.drop_column('application', 'group_id')
    op.drop_column('application', 'sponsor_kind')
    op.drop_index('ix_application_group_sponsor_id', table_name='application_group')
    op.drop_table('application_group')
