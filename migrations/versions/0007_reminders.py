"""reminders: when each visit's and group visit's reminder went out; lost-link lookups in the outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_sent_at', DATETIME, nullable=True))
    with op.batch_alter_table('tour_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_sent_at', DATETIME, nullable=True))
    op.create_index('ix_outbox_recipient_kind', 'outbox', ['recipient', 'kind', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_recipient_kind', table_name='outbox')
    with op.batch_alter_table('tour_request', schema=None) as batch_op:
        batch_op.drop_column('reminder_sent_at')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('reminder_sent_at')
