"""walk-ins: places kept back per slot for visitors without a booking, and the desk's count of them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept_back', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('kept_back_custom', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('walk_ins', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('slot_kept_back_within_capacity', 'kept_back >= 0 AND kept_back <= capacity')
        batch_op.create_check_constraint('slot_walk_ins_not_negative', 'walk_ins >= 0')
    op.create_table('walk_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('start', DATETIME, nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('at', DATETIME, nullable=False),
    sa.CheckConstraint('people <> 0 AND people >= -1 AND people <= 50', name='walk_in_people_known'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_walk_in_start', 'walk_in', ['start'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_walk_in_start', table_name='walk_in')
    op.drop_table('walk_in')
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_constraint('slot_walk_ins_not_negative', type_='check')
        batch_op.drop_constraint('slot_kept_back_within_capacity', type_='check')
        batch_op.drop_column('walk_ins')
        batch_op.drop_column('kept_back_custom')
        batch_op.drop_column('kept_back')
