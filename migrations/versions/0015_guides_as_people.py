"""guides as people: a guide's email, language and link version; their unavailability; emails to guides

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('guide', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='fr', nullable=False))
        batch_op.add_column(sa.Column('token_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_check_constraint('guide_language_known', "language IN ('fr', 'nl', 'en', 'de')")
    op.create_table(
        'guide_unavailability',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('guide_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('part', sa.String(length=10), nullable=False),
        sa.Column('note', sa.String(length=500), server_default='', nullable=False),
        sa.Column('entered_by_id', sa.Integer(), nullable=True),
        sa.Column('conflict', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', DATETIME, nullable=False),
        sa.CheckConstraint("part IN ('day', 'morning', 'afternoon')", name='guide_unavailability_part_known'),
        sa.ForeignKeyConstraint(['guide_id'], ['guide.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entered_by_id'], ['staff_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('guide_id', 'day', 'part', name='guide_unavailability_once'),
    )
    op.create_index('ix_guide_unavailability_day', 'guide_unavailability', ['day'])
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guide_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_outbox_guide_id_guide', 'guide', ['guide_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_outbox_tour_guide', ['tour_id', 'guide_id'])


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_tour_guide')
        batch_op.drop_constraint('fk_outbox_guide_id_guide', type_='foreignkey')
        batch_op.drop_column('guide_id')
    op.drop_index('ix_guide_unavailability_day', table_name='guide_unavailability')
    op.drop_table('guide_unavailability')
    with op.batch_alter_table('guide', schema=None) as batch_op:
        batch_op.drop_constraint('guide_language_known', type_='check')
        batch_op.drop_column('token_version')
        batch_op.drop_column('language')
        batch_op.drop_column('email')
