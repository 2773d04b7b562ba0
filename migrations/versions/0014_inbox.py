"""the officers' inbox: searchable case columns, the task's type on its row, filter indexes, saved filters

The inbox filters by type, index code, step, claimant and due time, and searches by register number,
passport number and name, without reading workflow state: the case row gets ``index_code``,
``applicant_name``, ``name_search`` (its lower-case, accent-free form) and ``passport_number``, written by
the unit of work's save from the case data; ``human_task`` gets the case's ``kitas_type`` and
``index_code`` when the row is written. B-tree indexes serve the filters and sorts; on PostgreSQL a
trigram GIN index (``pg_trgm``) serves "name contains". ``saved_filter`` keeps an officer's named filters.

Backfill: the index code comes from the register number's prefix and the tasks' type from their case,
in SQL. Names and passport numbers live only inside the SpiffWorkflow state (JSON of every task's data),
which SQL cannot read cheaply on SQLite; they are filled by the next step of each open case (any claim,
decision or timer saves the row), and ``kitas inbox-backfill`` fills them now, restoring each open case once.

Revision ID: 0014_inbox
Revises: 0013_groups
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = '0014_inbox'
down_revision = '0013_groups'
branch_labels = None
depends_on = None


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    # Plain ADD COLUMN (no table copy on SQLite: many tables point at application).
    op.add_column('application', sa.Column('index_code', sa.String(length=16), nullable=True))
    op.add_column('application', sa.Column('applicant_name', sa.String(length=200), nullable=True))
    op.add_column('application', sa.Column('name_search', sa.String(length=200), nullable=True))
    op.add_column('application', sa.Column('passport_number', sa.String(length=40), nullable=True))
    op.add_column('human_task', sa.Column('kitas_type', sa.String(length=32), nullable=True))
    op.add_column('human_task', sa.Column('index_code', sa.String(length=16), nullable=True))
    if postgres:
        op.execute("UPDATE application SET index_code = split_part(reference, '-', 1)")
    else:
        op.execute("UPDATE application SET index_code = substr(reference, 1, instr(reference, '-') - 1)")
    op.execute(
        'UPDATE human_task SET kitas_type = (SELECT a.kitas_type FROM application a WHERE a.id = human_task.application_id), '
        'index_code = (SELECT a.index_code FROM application a WHERE a.id = human_task.application_id)'
    )
    op.create_index('ix_application_passport_number', 'application', ['passport_number'], unique=False)
    op.create_index('ix_application_name_search', 'application', ['name_search'], unique=False)
    if postgres:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        # The extension may already live in another schema than this database's search_path
        # (one database, several schemas): name its operator class by that schema.
        schema = op.get_bind().execute(
            sa.text(
                'SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace '
                "WHERE e.extname = 'pg_trgm'"
            )
        ).scalar_one()
        opclass = f'"{schema}".gin_trgm_ops'
        op.execute(f'CREATE INDEX ix_application_name_trgm ON application USING gin (name_search {opclass})')
    # On PostgreSQL each filter index carries the other filters' columns: a count with several filters
    # is then an index-only scan. SQLite has no INCLUDE (and ignores the argument).
    covered = {'postgresql_include': ['kitas_type', 'index_code', 'element_id', 'claimed_by_id', 'due_at']}
    op.create_index('ix_human_task_due', 'human_task', ['role', 'due_at', 'id'], **covered)
    op.create_index('ix_human_task_step', 'human_task', ['role', 'element_id', 'created_at'], **covered)
    op.create_index('ix_human_task_claimed', 'human_task', ['role', 'claimed_by_id', 'created_at'], **covered)
    op.create_index('ix_human_task_type', 'human_task', ['role', 'kitas_type', 'created_at'], **covered)
    op.create_index('ix_human_task_index', 'human_task', ['role', 'index_code', 'created_at'], **covered)
    op.create_table(
        'saved_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('query', sa.String(length=1000), nullable=False),
        sa.Column('created_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'name', name='uq_saved_filter_name'),
    )


def downgrade():
    op.drop_table('saved_filter')
    for name in ('ix_human_task_index', 'ix_human_task_type', 'ix_human_task_claimed', 'ix_human_task_step', 'ix_human_task_due'):
        op.drop_index(name, table_name='human_task')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX ix_application_name_trgm')
    op.drop_index('ix_application_name_search', table_name='application')
    op.drop_index('ix_application_passport_number', table_name='application')
    op.drop_column('human_task', 'index_code')
    op.drop_column('human_task', 'kitas_type')
    for column in ('passport_number', 'name_search', 'applicant_name', 'index_code'):
        op.drop_column('application', column)
