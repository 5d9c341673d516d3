"""scheduled messages: written now, held by the server, sent by a job at their time

Revision ID: 0022
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scheduled_messages',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('sender_id', sa.BigInteger(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('send_at', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('message_id', sa.BigInteger(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_scheduled_client', 'scheduled_messages', ['sender_id', 'client_id'],
                    unique=True)
    op.create_index('ix_scheduled_due', 'scheduled_messages', ['state', 'send_at'])
    op.create_index('ix_scheduled_chat', 'scheduled_messages', ['chat_id', 'state'])


def downgrade() -> None:
    op.drop_index('ix_scheduled_chat', table_name='scheduled_messages')
    op.drop_index('ix_scheduled_due', table_name='scheduled_messages')
    op.drop_index('ix_scheduled_client', table_name='scheduled_messages')
    op.drop_table('scheduled_messages')
