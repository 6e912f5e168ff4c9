"""staff back office: roster, audit log, settings, check-in, desk bookings, lockout

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)
ATTENDANCE = "attendance IS NULL OR attendance IN ('arrived', 'no_show')"


def upgrade() -> None:
    op.create_table('setting',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('guide_duty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=False),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['guide_id'], ['guide.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'guide_id', name='guide_duty_once_per_day')
    )
    op.create_index('ix_guide_duty_day', 'guide_duty', ['day'], unique=False)
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', DATETIME, nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('tour_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tour_id'], ['tour_request.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_entry_at', 'audit_entry', ['at'], unique=False)
    op.create_index('ix_audit_entry_booking', 'audit_entry', ['booking_id'], unique=False)
    op.create_index('ix_audit_entry_tour', 'audit_entry', ['tour_id'], unique=False)

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('source', sa.String(length=8), server_default='web', nullable=False))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attendance', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('attendance_at', DATETIME, nullable=True))
        batch_op.add_column(sa.Column('cancelled_by', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('cancel_reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('cancel_message', sa.String(length=1000), server_default='', nullable=False))
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.create_foreign_key('booking_created_by_fk', 'staff_user', ['created_by_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_check_constraint('booking_source_known', "source IN ('web', 'api', 'staff')")
        batch_op.create_check_constraint('booking_attendance_known', ATTENDANCE)

    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='closed', nullable=False))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('closure_created_by_fk', 'staff_user', ['created_by_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_check_constraint('closure_kind_known', "kind IN ('closed', 'opened')")

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', DATETIME, nullable=True))
        batch_op.add_column(sa.Column('last_login_at', DATETIME, nullable=True))
        batch_op.add_column(sa.Column('password_changed_at', DATETIME, nullable=True))

    with op.batch_alter_table('tour_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=8), server_default='web', nullable=False))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attendance', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('attendance_at', DATETIME, nullable=True))
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.create_foreign_key('tour_created_by_fk', 'staff_user', ['created_by_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_check_constraint('tour_attendance_known', ATTENDANCE)


def downgrade() -> None:
    with op.batch_alter_table('tour_request', schema=None) as batch_op:
        batch_op.drop_constraint('tour_attendance_known', type_='check')
        batch_op.drop_constraint('tour_created_by_fk', type_='foreignkey')
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        for column in ('attendance_at', 'attendance', 'created_by_id', 'source'):
            batch_op.drop_column(column)
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        for column in ('password_changed_at', 'last_login_at', 'locked_until', 'failed_logins'):
            batch_op.drop_column(column)
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.drop_constraint('closure_kind_known', type_='check')
        batch_op.drop_constraint('closure_created_by_fk', type_='foreignkey')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('kind')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint('booking_attendance_known', type_='check')
        batch_op.drop_constraint('booking_source_known', type_='check')
        batch_op.drop_constraint('booking_created_by_fk', type_='foreignkey')
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        for column in ('cancel_message', 'cancel_reasons', 'cancelled_by', 'attendance_at', 'attendance',
                       'created_by_id', 'source', 'phone'):
            batch_op.drop_column(column)
    op.drop_table('audit_entry')
    op.drop_index('ix_guide_duty_day', table_name='guide_duty')
    op.drop_table('guide_duty')
    op.drop_table('setting')
