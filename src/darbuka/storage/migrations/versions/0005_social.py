"""social: contacts, privacy, blocks, handles, invite links, reactions, post views

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# A frozen copy of services/handles.py's folding, so this migration never changes meaning.
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "i": "l", "3": "e", "5": "s", "_": None})


def upgrade() -> None:
    op.create_table(
        'contacts',
        sa.Column('owner_id', sa.BigInteger(), nullable=False),
        sa.Column('phone_hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('owner_id', 'phone_hash'))
    op.create_index('ix_contacts_hash', 'contacts', ['phone_hash'])
    op.create_table(
        'blocks',
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('blocked_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['blocked_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'blocked_id'))
    op.create_index('ix_blocks_blocked', 'blocks', ['blocked_id', 'user_id'])
    op.create_table(
        'privacy',
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('find_by_phone', sa.String(16), server_default='everyone', nullable=False),
        sa.Column('last_seen', sa.String(16), server_default='everyone', nullable=False),
        sa.Column('group_add', sa.String(16), server_default='everyone', nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'))
    op.create_table(
        'handles',
        sa.Column('key', sa.String(32), nullable=False),
        sa.Column('skeleton', sa.String(32), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=True),
        sa.Column('chat_id', sa.BigInteger(), nullable=True),
        sa.Column('owner_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
        sa.UniqueConstraint('user_id'),
        sa.UniqueConstraint('chat_id'))
    op.create_index('ix_handles_skeleton', 'handles', ['skeleton'])
    op.create_table(
        'invites',
        sa.Column('id', Id, nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=True),
        sa.Column('max_uses', sa.Integer(), nullable=True),
        sa.Column('uses', sa.Integer(), server_default='0', nullable=False),
        sa.Column('revoked', sa.Boolean(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'))
    op.create_index('ix_invites_chat_id', 'invites', ['chat_id'])
    op.create_table(
        'reactions',
        sa.Column('message_id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('emoji', sa.String(32), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', 'user_id', 'emoji'))
    op.create_table(
        'post_views',
        sa.Column('message_id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', 'user_id'))
    op.create_table(
        'post_stats',
        sa.Column('message_id', sa.BigInteger(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('views', sa.BigInteger(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id'))
    op.create_table(
        'admin_rights',
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('rights', sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('chat_id', 'user_id'))
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('verified', sa.Boolean(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('chats') as batch_op:
        batch_op.add_column(sa.Column('handle', sa.String(32), nullable=True))
        batch_op.add_column(sa.Column('sign_posts', sa.Boolean(), server_default='0',
                                      nullable=False))
    _claim_existing_usernames()


def _claim_existing_usernames() -> None:
    """Usernames made before this migration enter the shared handle namespace."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, username_key FROM users WHERE username_key IS NOT NULL")).all()
    handles = sa.table('handles', sa.column('key'), sa.column('skeleton'),
                       sa.column('user_id'), sa.column('owner_id'))
    values = [{"key": key, "skeleton": _skeleton(key), "user_id": uid, "owner_id": uid}
              for uid, key in rows]
    if values:
        op.bulk_insert(handles, values)


def _skeleton(key: str) -> str:
    return unicodedata.normalize("NFKC", key).casefold().translate(_LOOKALIKE)[:32]


def downgrade() -> None:
    with op.batch_alter_table('chats') as batch_op:
        batch_op.drop_column('sign_posts')
        batch_op.drop_column('handle')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('verified')
    for table in ('admin_rights', 'post_stats', 'post_views', 'reactions', 'invites',
                  'handles', 'privacy', 'blocks', 'contacts'):
        op.drop_table(table)
