"""access needs: what a visitor or a group said they need (wheelchair, mobility, vision, hearing, other)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CODES = ('wheelchair', 'mobility', 'vision', 'hearing', 'other')
TABLES = {'booking': 'booking', 'tour_request': 'tour'}  # table -> prefix of its constraints' names


def upgrade() -> None:
    for table, prefix in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for code in CODES:
                batch_op.add_column(sa.Column(f'access_{code}', sa.Boolean(), server_default=sa.false(),
                                              nullable=False))
            batch_op.add_column(sa.Column('access_other_text', sa.String(length=200), server_default='',
                                          nullable=False))
            batch_op.create_check_constraint(
                f'{prefix}_access_other_explained',
                "(access_other AND access_other_text <> '') OR (NOT access_other AND access_other_text = '')")
            batch_op.create_check_constraint(f'{prefix}_access_other_short', 'length(access_other_text) <= 200')


def downgrade() -> None:
    for table, prefix in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'{prefix}_access_other_short', type_='check')
            batch_op.drop_constraint(f'{prefix}_access_other_explained', type_='check')
            batch_op.drop_column('access_other_text')
            for code in reversed(CODES):
                batch_op.drop_column(f'access_{code}')
