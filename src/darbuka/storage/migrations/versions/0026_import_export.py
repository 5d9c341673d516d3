"""imports from Telegram exports (what became of each chat, author and message) and
people's exports of their own data

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'import_chats',
        sa.Column('source', sa.String(length=96), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('source'),
    )
    op.create_table(
        'import_authors',
        sa.Column('source', sa.String(length=96), nullable=False),
        sa.Column('author', sa.String(length=96), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('source', 'author'),
    )
    op.create_table(
        'import_messages',
        sa.Column('source', sa.String(length=96), nullable=False),
        sa.Column('item', sa.BigInteger(), nullable=False),
        sa.Column('message_id', sa.BigInteger(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('source', 'item'),
    )
    op.create_table(
        'data_exports',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('blob', sa.String(length=64), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('finished_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_data_exports_user', 'data_exports', ['user_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_data_exports_user', table_name='data_exports')
    op.drop_table('data_exports')
    op.drop_table('import_messages')
    op.drop_table('import_authors')
    op.drop_table('import_chats')
