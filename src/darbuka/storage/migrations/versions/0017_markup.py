"""markup: rich text ranges over a message's text (JSON), beside the text they style

Revision ID: 0017
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: instant on PostgreSQL, a plain ADD COLUMN on SQLite; messages
    # from before are plain text.
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('markup', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('markup')
