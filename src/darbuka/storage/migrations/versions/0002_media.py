"""media: uploads, variants, hashes, references, sticker packs, avatars

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'media',
        sa.Column('id', sa.String(32), primary_key=True),
        sa.Column('owner_id', sa.BigInteger(), nullable=True),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('length', sa.BigInteger(), nullable=False),
        sa.Column('received', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('filename', sa.String(255), server_default='', nullable=False),
        sa.Column('mime', sa.String(64), nullable=True),
        sa.Column('info', sa.Text(), nullable=True),
        sa.Column('variants', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=True),
    )
    op.create_index('ix_media_owner', 'media', ['owner_id', 'state'])
    op.create_index('ix_media_state', 'media', ['state', 'expires_at'])
    op.create_table(
        'media_refs',
        sa.Column('media_id', sa.String(32), primary_key=True),
        sa.Column('message_id', sa.BigInteger(), primary_key=True),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'media_hashes',
        sa.Column('id', Id, primary_key=True),
        sa.Column('media_id', sa.String(32), nullable=False),
        sa.Column('algo', sa.String(16), nullable=False),
        sa.Column('value', sa.String(64), nullable=False),
        sa.Column('quality', sa.Integer(), nullable=True),
        sa.Column('frame', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_media_hashes_media_id', 'media_hashes', ['media_id'])
    op.create_index('ix_media_hashes_value', 'media_hashes', ['algo', 'value'])
    op.create_table(
        'sticker_packs',
        sa.Column('id', Id, primary_key=True),
        sa.Column('owner_id', sa.BigInteger(), nullable=True),
        sa.Column('title', sa.String(64), nullable=False),
        sa.Column('is_default', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'stickers',
        sa.Column('pack_id', sa.BigInteger(),
                  sa.ForeignKey('sticker_packs.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('media_id', sa.String(32), primary_key=True),
        sa.Column('emoji', sa.String(16), server_default='', nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
    )
    op.create_table(
        'user_sticker_packs',
        sa.Column('user_id', sa.BigInteger(), primary_key=True),
        sa.Column('pack_id', sa.BigInteger(),
                  sa.ForeignKey('sticker_packs.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('installed_at', sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table('messages') as batch_op:
        batch_op.add_column(sa.Column('media', sa.Text(), nullable=True))
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('avatar', sa.String(32), nullable=True))
    with op.batch_alter_table('chats') as batch_op:
        batch_op.add_column(sa.Column('avatar', sa.String(32), nullable=True))


def downgrade() -> None:
    for table in ('chats', 'users'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('avatar')
    with op.batch_alter_table('messages') as batch_op:
        batch_op.drop_column('media')
    for table in ('user_sticker_packs', 'stickers', 'sticker_packs', 'media_hashes',
                  'media_refs', 'media'):
        op.drop_table(table)
