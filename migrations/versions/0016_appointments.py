"""appointments: the slots offices publish and the cases' bookings in them

``appointment_slot.booked`` counts a slot's active bookings and a CHECK keeps it within ``capacity``;
``ux_appointment_active`` allows one active booking per case and kind.

Revision ID: 0016_appointments
Revises: 0015_offices
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

revision = '0016_appointments'
down_revision = '0015_offices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appointment_slot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.Column('booked', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('interview', 'biometrics')", name='ck_appointment_slot_kind'),
        sa.CheckConstraint('capacity >= 1', name='ck_appointment_slot_capacity'),
        sa.CheckConstraint('booked >= 0 AND booked <= capacity', name='ck_appointment_slot_booked'),
        sa.CheckConstraint('ends_at > starts_at', name='ck_appointment_slot_length'),
        sa.ForeignKeyConstraint(['office_id'], ['office.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('office_id', 'kind', 'starts_at', name='uq_appointment_slot_time'),
    )
    op.create_index('ix_appointment_slot_free', 'appointment_slot', ['office_id', 'kind', 'starts_at'])
    op.create_table(
        'appointment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slot_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('booked_by_id', sa.Integer(), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'attended', 'missed')", name='ck_appointment_status'
        ),
        sa.ForeignKeyConstraint(['slot_id'], ['appointment_slot.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['booked_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['ended_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ux_appointment_active',
        'appointment',
        ['application_id', 'kind'],
        unique=True,
        postgresql_where=sa.text("status = 'booked'"),
        sqlite_where=sa.text("status = 'booked'"),
    )
    op.create_index('ix_appointment_slot', 'appointment', ['slot_id', 'status'])


def downgrade():
    op.drop_index('ix_appointment_slot', table_name='appointment')
    op.drop_index('ux_appointment_active', table_name='appointment')
    op.drop_table('appointment')
    op.drop_index('ix_appointment_slot_free', table_name='appointment_slot')
    op.drop_table('appointment_slot')
