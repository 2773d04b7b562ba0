"""the inbox at 300,000 open tasks with offices: filter indexes that cover the office and escalation

The inbox scopes every officer's list and counts to her offices (``human_task.office_id``) and filters
escalated tasks (``escalated_at``). On PostgreSQL the filter indexes of 0014/0015 are rebuilt with those
two columns in their INCLUDE, so the capped counts stay index-only scans. SQLite has no INCLUDE: its filter
indexes are replaced by ones that carry the other filters' columns as trailing keys (``*_cover``), so a
count reads the index alone instead of one table row per index entry (2-14 s became tens of ms at 100,000
cases). Both get a partial index of the escalated tasks.

Revision ID: 0019_inbox_speed
Revises: 0018_dashboard
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

revision = '0019_inbox_speed'
down_revision = '0018_dashboard'
branch_labels = None
depends_on = None

OLD_COVERED = ['kitas_type', 'index_code', 'element_id', 'claimed_by_id', 'due_at']
COVERED = OLD_COVERED + ['office_id', 'escalated_at']
# name -> the filter's keys after the role (the sort column last)
FILTERS = {
    'due': ['due_at', 'id'],
    'step': ['element_id', 'created_at'],
    'claimed': ['claimed_by_id', 'created_at'],
    'type': ['kitas_type', 'created_at'],
    'index': ['index_code', 'created_at'],
    'office': ['office_id', 'created_at'],
}


def _cover(keys):
    """SQLite: role, the filter's keys, the sort column, the id (the list's order), then the other filters."""
    ordered = ['role'] + keys + ([] if keys[-1] == 'id' else ['id'])
    return ordered + [c for c in ['created_at'] + COVERED if c not in ordered]


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    for name, keys in FILTERS.items():
        op.drop_index(f'ix_human_task_{name}', table_name='human_task')
        if postgres:
            op.create_index(f'ix_human_task_{name}', 'human_task', ['role'] + keys, postgresql_include=COVERED)
        else:
            op.create_index(f'ix_human_task_{name}_cover', 'human_task', _cover(keys))
    escalated = sa.text('escalated_at IS NOT NULL')
    if postgres:
        op.create_index(
            'ix_human_task_escalated',
            'human_task',
            ['role', 'office_id', 'created_at'],
            postgresql_include=COVERED,
            postgresql_where=escalated,
        )
    else:
        op.create_index(
            'ix_human_task_escalated_cover', 'human_task', _cover(['office_id', 'created_at']), sqlite_where=escalated
        )


def downgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.drop_index('ix_human_task_escalated' if postgres else 'ix_human_task_escalated_cover', table_name='human_task')
    for name, keys in FILTERS.items():
        op.drop_index(f'ix_human_task_{name}' if postgres else f'ix_human_task_{name}_cover', table_name='human_task')
        op.create_index(f'ix_human_task_{name}', 'human_task', ['role'] + keys, postgresql_include=OLD_COVERED)
