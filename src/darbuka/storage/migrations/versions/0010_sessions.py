"""sessions: the count of sign-in code checks per number outlives a new code

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_codes') as batch:
        batch.add_column(sa.Column('attempts_reset_at', sa.BigInteger(), server_default='0',
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('login_codes') as batch:
        batch.drop_column('attempts_reset_at')
