"""event routing: who each event lets into or out of live routing, stored beside it, so a
process that fills a gap in live delivery from the database routes it as published

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: instant on PostgreSQL, a plain ADD COLUMN on SQLite. Events from
    # before were delivered live already; they are only read back by catch-up, which needs
    # no routing.
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('routing', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('events') as batch:
        batch.drop_column('routing')
