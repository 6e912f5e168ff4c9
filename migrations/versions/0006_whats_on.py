"""what's on: exhibitions and events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('exhibition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=False),
    sa.Column('descriptions', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('panel_languages', sa.String(length=20), nullable=False),
    sa.Column('image', sa.String(length=80), nullable=True),
    sa.Column('created_at', DATETIME, nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name='exhibition_ends_after_start'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_exhibition_period', 'exhibition', ['starts_on', 'ends_on'], unique=False)
    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=False),
    sa.Column('descriptions', sa.JSON(), nullable=False),
    sa.Column('start_at', DATETIME, nullable=False),
    sa.Column('end_at', DATETIME, nullable=False),
    sa.Column('place', sa.String(length=150), nullable=False),
    sa.Column('booking_needed', sa.Boolean(), nullable=False),
    sa.Column('created_at', DATETIME, nullable=False),
    sa.CheckConstraint('end_at > start_at', name='event_ends_after_start'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_event_start', 'event', ['start_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_event_start', table_name='event')
    op.drop_table('event')
    op.drop_index('ix_exhibition_period', table_name='exhibition')
    op.drop_table('exhibition')
