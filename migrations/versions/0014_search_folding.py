"""search folding: PostgreSQL's unaccent extension, for the staff search without accents

The extension is trusted (PostgreSQL 13 and later), so the app's role, which owns its database but
is no superuser (deploy/install.sh), may create it; Debian's postgresql package ships it (contrib).
On a database elsewhere where the role may not create it, an administrator creates it once
beforehand, and IF NOT EXISTS lets this pass. SQLite needs nothing stored: booking/db.py
registers its folding function on each connection.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS unaccent')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP EXTENSION IF EXISTS unaccent')
