"""chat rules: who appointed each admin; a channel's admins found by role; media refs of
messages removed by moderation; removals undone

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
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
    with op.batch_alter_table('preserved') as batch:
        batch.add_column(sa.Column('reinstated_at', sa.BigInteger(), nullable=True))
    # Before this a message had one removal at a time, the one of its newest copy: every
    # other copy records a removal that was undone (when was not kept; its own time stands
    # in), and so do all copies of a message that is not removed now.
    op.execute("UPDATE preserved SET reinstated_at = preserved_at WHERE target_type = 'message' "
               'AND (target_id IN (SELECT id FROM messages WHERE removed = FALSE) '
               'OR id < (SELECT MAX(p.id) FROM preserved p WHERE p.target_type = '
               "'message' AND p.target_id = preserved.target_id))")


def downgrade() -> None:
    with op.batch_alter_table('preserved') as batch:
        batch.drop_column('reinstated_at')
    with op.batch_alter_table('media_refs') as batch:
        batch.drop_column('removed')
    op.drop_index('ix_members_role', table_name='members')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('promoted_by')
