"""mutes and drafts: a member's mute of a chat (until when, mentions excepted) and the draft
they are writing there, on their membership row

Revision ID: 0016
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('muted_until', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('mute_mentions', sa.Boolean(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('draft', sa.Text(), nullable=True))
        batch.add_column(sa.Column('draft_at', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_column('draft_at')
        batch.drop_column('draft')
        batch.drop_column('mute_mentions')
        batch.drop_column('muted_until')
