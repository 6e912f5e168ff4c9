"""group visits and staff

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('guide',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('language_codes', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('staff', 'admin')", name='staff_role_known'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('tour_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('guided', sa.Boolean(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('requested_starts', sa.JSON(), nullable=False),
    sa.Column('organisation', sa.String(length=150), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=12), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_role', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('leader_name', sa.String(length=100), nullable=False),
    sa.Column('pupils', sa.Integer(), nullable=False),
    sa.Column('adults', sa.Integer(), nullable=False),
    sa.Column('group_kind', sa.String(length=16), nullable=False),
    sa.Column('tour_language', sa.String(length=2), nullable=True),
    sa.Column('needs', sa.String(length=1000), nullable=False),
    sa.Column('topic', sa.String(length=1000), nullable=False),
    sa.Column('notes', sa.String(length=1000), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('decision_message', sa.String(length=1000), nullable=False),
    sa.Column('proposal_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('request_key', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("language IN ('fr', 'nl', 'en', 'de')", name='tour_language_known'),
    sa.CheckConstraint("status IN ('pending', 'proposed', 'confirmed', 'declined', 'refused', 'cancelled', 'expired')", name='tour_status_known'),
    sa.CheckConstraint('duration_minutes > 0', name='tour_duration_positive'),
    sa.CheckConstraint('pupils >= 1 AND adults >= 0', name='tour_group_size_positive'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference'),
    sa.UniqueConstraint('request_key')
    )
    with op.batch_alter_table('tour_request', schema=None) as batch_op:
        batch_op.create_index('ix_tour_request_start', ['start'], unique=False)
        batch_op.create_index('ix_tour_request_status_created', ['status', 'created_at'], unique=False)

    op.create_table('guide_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=False),
    sa.Column('tour_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['guide_id'], ['guide.id'], ),
    sa.ForeignKeyConstraint(['tour_id'], ['tour_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('guide_id', 'start', name='guide_busy_once_per_hour')
    )
    with op.batch_alter_table('guide_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guide_assignment_tour_id'), ['tour_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tour_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('outbox_tour_id_fkey', 'tour_request', ['tour_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('outbox_tour_id_fkey', type_='foreignkey')
        batch_op.drop_column('tour_id')

    with op.batch_alter_table('guide_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guide_assignment_tour_id'))

    op.drop_table('guide_assignment')
    with op.batch_alter_table('tour_request', schema=None) as batch_op:
        batch_op.drop_index('ix_tour_request_status_created')
        batch_op.drop_index('ix_tour_request_start')

    op.drop_table('tour_request')
    op.drop_table('staff_user')
    op.drop_table('guide')
