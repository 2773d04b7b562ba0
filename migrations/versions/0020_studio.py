"""the analysts' studio: drafts, proposals with a second pair of eyes, trial versions and sandbox cases

A draft is a process model being edited on the server (``revision`` counts saves, so concurrent saves
conflict). A proposal freezes a draft for review. ``process_definition.trial`` marks the versions an
analyst tries (sandbox cases only, never the version new cases start on) and ``comment`` what the
analyst said of a version. ``retired`` marks versions a rollback took back: new cases start on the
newest version neither trial nor retired. ``application.trial`` marks sandbox cases.

Revision ID: 0020_studio
Revises: 0019_inbox_speed
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

revision = '0020_studio'
down_revision = '0019_inbox_speed'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no table rebuild on SQLite: other tables' foreign keys point at these two).
    op.add_column('process_definition', sa.Column('comment', sa.String(length=1000), nullable=True))
    op.add_column('process_definition', sa.Column('trial', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('process_definition', sa.Column('retired', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('application', sa.Column('trial', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'studio_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('process_id', sa.String(length=100), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('bpmn_xml', sa.Text(), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('base_definition_id', sa.Integer(), nullable=True),
        sa.Column('source_name', sa.String(length=255), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['base_definition_id'], ['process_definition.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_studio_draft_process', 'studio_draft', ['process_id', 'status'], unique=False)
    op.create_table(
        'deployment_proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('process_id', sa.String(length=100), nullable=False),
        sa.Column('bpmn_xml', sa.Text(), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('base_definition_id', sa.Integer(), nullable=True),
        sa.Column('comment', sa.String(length=1000), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=False),
        sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('review_comment', sa.String(length=1000), nullable=True),
        sa.Column('definition_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['draft_id'], ['studio_draft.id']),
        sa.ForeignKeyConstraint(['base_definition_id'], ['process_definition.id']),
        sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id']),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_deployment_proposal_status', 'deployment_proposal', ['status', 'proposed_at'], unique=False)
    op.create_index('ix_deployment_proposal_process_id', 'deployment_proposal', ['process_id'], unique=False)


def downgrade():
    op.drop_index('ix_deployment_proposal_process_id', table_name='deployment_proposal')
    op.drop_index('ix_deployment_proposal_status', table_name='deployment_proposal')
    op.drop_table('deployment_proposal')
    op.drop_index('ix_studio_draft_process', table_name='studio_draft')
    op.drop_table('studio_draft')
    op.drop_column('application', 'trial')
    op.drop_column('process_definition', 'retired')
    op.drop_column('process_definition', 'trial')
    op.drop_column('process_definition', 'comment')
