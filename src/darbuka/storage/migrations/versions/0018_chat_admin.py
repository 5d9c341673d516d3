"""chat admins' tools: bans, join requests, slow mode, the admin log; who made each chat;
sends held by anti-spam

Revision ID: 0018
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chats') as batch:
        batch.add_column(sa.Column('slow_mode_s', sa.Integer(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('join_approval', sa.Boolean(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('created_by', sa.BigInteger(), nullable=True))
    op.create_index('ix_chats_created_by', 'chats', ['created_by', 'created_at'])
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('last_post_at', sa.BigInteger(), nullable=True))
    op.create_table(
        'chat_bans',
        sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  sa.ForeignKey('chats.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('user_id', sa.BigInteger(), primary_key=True),
        sa.Column('banned_by', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'join_requests',
        sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  sa.ForeignKey('chats.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('user_id', sa.BigInteger(), primary_key=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'admin_log',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  sa.ForeignKey('chats.id', ondelete='CASCADE'), nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=False),
        sa.Column('action', sa.String(32), nullable=False),
        sa.Column('target_id', sa.BigInteger(), nullable=True),
        sa.Column('details', sa.Text(), server_default='{}', nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_admin_log_chat', 'admin_log', ['chat_id', 'id'])
    op.create_table(
        'held_sends',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('item_id', sa.BigInteger(), nullable=False),
        sa.Column('sender_id', sa.BigInteger(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('client_id', sa.String(64), nullable=False),
        sa.Column('request', sa.Text(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_held_sends_item_id', 'held_sends', ['item_id'])
    op.create_index('ux_held_sender_client', 'held_sends', ['sender_id', 'client_id'],
                    unique=True)


def downgrade() -> None:
    op.drop_index('ux_held_sender_client', table_name='held_sends')
    op.drop_index('ix_held_sends_item_id', table_name='held_sends')
    op.drop_table('held_sends')
    op.drop_index('ix_admin_log_chat', table_name='admin_log')
    op.drop_table('admin_log')
    op.drop_table('join_requests')
    op.drop_table('chat_bans')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('last_post_at')
    op.drop_index('ix_chats_created_by', table_name='chats')
    with op.batch_alter_table('chats') as batch:
        batch.drop_column('created_by')
        batch.drop_column('join_approval')
        batch.drop_column('slow_mode_s')
