"""immigration offices: the offices (synced from workflows/offices.json), officers' offices, each case's office

A case belongs to the office the catalog's domicile rule gives the province the applicant or sponsor
lives in; the task rows carry the case's office so the inbox shows officers their offices' tasks only.
Cases started before this revision have no office until ``kitas offices-backfill`` (or their next step)
gives them one; an admin sees them meanwhile.

Revision ID: 0015_offices
Revises: 0014_inbox
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

revision = '0015_offices'
down_revision = '0014_inbox'
branch_labels = None
depends_on = None

COVERED = ['kitas_type', 'index_code', 'element_id', 'claimed_by_id', 'due_at']


def upgrade():
    op.create_table(
        'office',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('city', sa.String(length=100), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('time_zone', sa.String(length=40), nullable=False),
        sa.Column('opens', sa.String(length=5), nullable=False),
        sa.Column('closes', sa.String(length=5), nullable=False),
        sa.Column('working_days', sa.String(length=20), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_table(
        'officer_office',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['office.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'office_id'),
    )
    op.add_column('application', sa.Column('domicile_province', sa.String(length=60), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # Plain ADD COLUMN with an inline reference (no table copy: many tables point at these two).
        op.execute('ALTER TABLE application ADD COLUMN office_id INTEGER REFERENCES office (id)')
        op.execute('ALTER TABLE human_task ADD COLUMN office_id INTEGER REFERENCES office (id)')
    else:
        op.add_column('application', sa.Column('office_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_application_office', 'application', 'office', ['office_id'], ['id'])
        op.add_column('human_task', sa.Column('office_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_human_task_office', 'human_task', 'office', ['office_id'], ['id'])
    op.create_index('ix_application_office_id', 'application', ['office_id'], unique=False)
    op.create_index(
        'ix_human_task_office', 'human_task', ['role', 'office_id', 'created_at'], postgresql_include=COVERED
    )


def downgrade():
    op.drop_index('ix_human_task_office', table_name='human_task')
    op.drop_index('ix_application_office_id', table_name='application')
    # Not in batch mode: SQLite would copy the tables, and the rows that point at them refuse that.
    # SQLite (3.35+) drops a column that no index names; its inline reference goes with it.
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_human_task_office', 'human_task', type_='foreignkey')
        op.drop_constraint('fk_application_office', 'application', type_='foreignkey')
    op.drop_column('human_task', 'office_id')
    op.drop_column('application', 'office_id')
    op.drop_column('application', 'domicile_province')
    op.drop_table('officer_office')
    op.drop_table('office')
