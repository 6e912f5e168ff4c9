"""waiting list: entries per slot, offers that hold places, their emails

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('waitlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('start', DATETIME, nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('created_at', DATETIME, nullable=False),
    sa.Column('offered_at', DATETIME, nullable=True),
    sa.Column('offer_expires_at', DATETIME, nullable=True),
    sa.Column('closed_at', DATETIME, nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("language IN ('fr', 'nl', 'en', 'de')", name='waitlist_language_known'),
    sa.CheckConstraint("status IN ('waiting', 'offered', 'accepted', 'expired', 'declined', 'left')",
                       name='waitlist_status_known'),
    sa.CheckConstraint('people >= 1', name='waitlist_people_positive'),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    op.create_index('ix_waitlist_start_status', 'waitlist_entry', ['start', 'status', 'created_at'], unique=False)
    op.create_index('ix_waitlist_status_expiry', 'waitlist_entry', ['status', 'offer_expires_at'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlist_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('outbox_waitlist_fk', 'waitlist_entry', ['waitlist_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_index('ix_outbox_waitlist', ['waitlist_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_waitlist')
        batch_op.drop_constraint('outbox_waitlist_fk', type_='foreignkey')
        batch_op.drop_column('waitlist_id')
    op.drop_index('ix_waitlist_status_expiry', table_name='waitlist_entry')
    op.drop_index('ix_waitlist_start_status', table_name='waitlist_entry')
    op.drop_table('waitlist_entry')
