"""bots: bot accounts, webhooks, callback presses, keyboards, pinned messages

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pinned_message_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keyboard', sa.Text(), nullable=True))
    op.create_table('bots',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('description', sa.String(length=16000), server_default='', nullable=False),
    sa.Column('commands', sa.Text(), server_default='[]', nullable=False),
    sa.Column('marker', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('bot_subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('update_types', sa.Text(), server_default='[]', nullable=False),
    sa.Column('version', sa.String(length=16), server_default='', nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bot_id', 'url', name='uq_bot_subscriptions_url')
    )
    op.create_index('ix_bot_subscriptions_bot_id', 'bot_subscriptions', ['bot_id'])
    op.create_table('bot_callbacks',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.String(length=1024), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('bot_callbacks')
    op.drop_index('ix_bot_subscriptions_bot_id', table_name='bot_subscriptions')
    op.drop_table('bot_subscriptions')
    op.drop_table('bots')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('keyboard')
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_column('pinned_message_id')
