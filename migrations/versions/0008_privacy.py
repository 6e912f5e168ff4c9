"""privacy: erasure requested by the visitor, and when personal data was anonymised

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    for table in ('booking', 'tour_request'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('erase_requested_at', DATETIME, nullable=True))
            batch_op.add_column(sa.Column('anonymised_at', DATETIME, nullable=True))


def downgrade() -> None:
    for table in ('tour_request', 'booking'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('anonymised_at')
            batch_op.drop_column('erase_requested_at')
