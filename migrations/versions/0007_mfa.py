"""second factors and recovery codes, login attempts by factor, audit quotas, account e-mails rendered when sent

Adds second_factor (a TOTP secret per person, pending until confirmed, with the last
accepted time step), recovery_code (SHA-256 digests, each usable once), audit_quota
(when a repeating event may be audited again), login_attempt.factor (password, code
or link) and notification.template (an account e-mail written by the outbox job, so
a request does the same work whether or not the address has an account).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

"""

from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _stamp(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, kitas.models.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "second_factor",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        _stamp("created_at", nullable=False),
        _stamp("confirmed_at"),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _stamp("created_at", nullable=False),
        _stamp("used_at"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recovery_code_user", "recovery_code", ["user_id", "code_hash"], unique=True)
    op.create_table(
        "audit_quota",
        sa.Column("key", sa.String(length=300), nullable=False),
        _stamp("next_at", nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("factor", sa.String(length=16), nullable=False, server_default="password"))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_notification_recipient", ["recipient", "created_at"], unique=False)


def downgrade():
    # Account e-mails still waiting to be written cannot be sent by the older code: drop them.
    notification = sa.table("notification", sa.column("template", sa.String()))
    op.execute(notification.delete().where(notification.c.template.is_not(None)))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_recipient")
        batch_op.drop_column("template")
    login_attempt = sa.table("login_attempt", sa.column("factor", sa.String()))
    # The older limits count every row as a password attempt.
    op.execute(login_attempt.delete().where(login_attempt.c.factor != "password"))
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_column("factor")
    op.drop_table("audit_quota")
    op.drop_index("ix_recovery_code_user", table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_table("second_factor")
