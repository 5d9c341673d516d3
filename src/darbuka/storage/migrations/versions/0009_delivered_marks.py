"""delivered marks: how far each member's devices have received a chat

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('last_delivered_seq', sa.BigInteger(), server_default='0',
                                   nullable=False))
    # What a member has read was delivered to them.
    op.execute('UPDATE members SET last_delivered_seq = last_read_seq')


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_column('last_delivered_seq')
