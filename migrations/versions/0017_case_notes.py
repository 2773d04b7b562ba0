"""case notes: officers' internal notes on a case, never shown to the applicant nor in her export

Revision ID: 0017_case_notes
Revises: 0016_appointments
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

revision = '0017_case_notes'
down_revision = '0016_appointments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('text', sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_note_case', 'case_note', ['application_id', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_case_note_case', table_name='case_note')
    op.drop_table('case_note')
