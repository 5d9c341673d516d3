"""chat rules: who appointed each admin; a channel's admins found by role

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
    # Admins from before are treated as the owner's: only the owner changes them.
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('promoted_by', sa.BigInteger(), nullable=True))
    op.create_index('ix_members_role', 'members', ['chat_id', 'role'])


def downgrade() -> None:
    op.drop_index('ix_members_role', table_name='members')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('promoted_by')
