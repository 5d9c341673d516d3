"""chat rules: who appointed each admin; a channel's admins found by role; media refs of
messages removed by moderation

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
    with op.batch_alter_table('media_refs') as batch:
        batch.add_column(sa.Column('removed', sa.Boolean(), server_default='0',
                                   nullable=False))
    # Messages removed before this keep no live ref (nor their uploads a second life).
    op.execute('UPDATE media_refs SET removed = TRUE WHERE message_id IN '
               '(SELECT id FROM messages WHERE removed = TRUE)')


def downgrade() -> None:
    with op.batch_alter_table('media_refs') as batch:
        batch.drop_column('removed')
    op.drop_index('ix_members_role', table_name='members')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('promoted_by')
