"""sessions: the count of sign-in code checks per number outlives a new code, and device
ids are never reused (on SQLite: AUTOINCREMENT)

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
    # `device.revoked` names a device by id: a later device must not get the same one.
    # PostgreSQL's sequences never go back; SQLite reuses the highest id once it is deleted
    # unless the table is AUTOINCREMENT, which takes rebuilding it.
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('devices', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}):
            pass


def downgrade() -> None:
    with op.batch_alter_table('login_codes') as batch:
        batch.drop_column('attempts_reset_at')
