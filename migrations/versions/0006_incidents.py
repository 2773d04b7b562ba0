"""incidents: failed engine steps, timers and deliveries waiting for an administrator

One table. ``open_key`` is unique while an incident is open (cleared when it is resolved), so a
failure that repeats counts attempts on its open incident instead of opening another. Rows that had
already given up (timers, notifications, provider notices) each get their open incident, as the
code now opens one when a row gives up.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

"""

from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _when(name, nullable=False):
    return sa.Column(name, kitas.models.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        'incident',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('element_id', sa.String(length=100), nullable=True),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        _when('created_at'),
        _when('last_failed_at'),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('retries', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('open_key', sa.String(length=200), nullable=True),
        sa.Column('lease_kind', sa.String(length=16), nullable=True),
        sa.Column('lease_row_id', sa.Integer(), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        _when('resolved_at', nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('open_key', name='uq_incident_open_key'),
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('ix_incident_list', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_incident_case', ['application_id', 'status'], unique=False)
    _incidents_for_given_up_rows()


_KINDS = (
    ('timer', 'timer_failing'),
    ('notification', 'notification_undeliverable'),
    ('sandbox_webhook', 'callback_undeliverable'),
)
_LEASE_NAMES = {'timer': 'timer', 'notification': 'notification', 'sandbox_webhook': 'webhook'}


def _incidents_for_given_up_rows():
    stamp = kitas.models.types.UTCDateTime(timezone=True)
    incident = sa.table(
        'incident',
        *(
            sa.column(name)
            for name in (
                'application_id',
                'element_id',
                'kind',
                'error',
                'created_at',
                'last_failed_at',
                'attempts',
                'retries',
                'status',
                'open_key',
                'lease_kind',
                'lease_row_id',
            )
        ),
    )
    for table_name, kind in _KINDS:
        columns = [
            sa.column('id', sa.Integer()),
            sa.column('attempts', sa.Integer()),
            sa.column('last_error', sa.Text()),
            sa.column('gave_up_at', stamp),
        ]
        if table_name != 'sandbox_webhook':
            columns.append(sa.column('application_id', sa.Integer()))
        if table_name == 'timer':
            columns.append(sa.column('element_id', sa.String()))
        rows = sa.table(table_name, *columns)
        lease = _LEASE_NAMES[table_name]
        query = sa.select(
            rows.c.application_id if table_name != 'sandbox_webhook' else sa.null(),
            rows.c.element_id if table_name == 'timer' else sa.null(),
            sa.literal(kind),
            sa.func.coalesce(rows.c.last_error, 'gave up (before incidents were recorded)'),
            rows.c.gave_up_at,
            rows.c.gave_up_at,
            rows.c.attempts,
            sa.literal(0),
            sa.literal('open'),
            sa.literal(lease + ':') + sa.cast(rows.c.id, sa.String()),
            sa.literal(lease),
            rows.c.id,
        ).where(rows.c.gave_up_at.is_not(None))
        op.execute(incident.insert().from_select(list(incident.c.keys()), query))


def downgrade():
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_case')
        batch_op.drop_index('ix_incident_list')
    op.drop_table('incident')
