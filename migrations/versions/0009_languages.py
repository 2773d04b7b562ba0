"""each person's language and time zone

Pages, e-mails and SMS are written in the user's language (Bahasa Indonesia or
English) and times shown in their zone (WIB, WITA or WIT). Empty means: the
browser's language, else Indonesian; Western Indonesian Time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=40), nullable=True))


def downgrade():
    # Not in batch mode: SQLite would copy the table, and the rows that point at users refuse that.
    op.drop_column('user', 'time_zone')
    op.drop_column('user', 'language')
