"""moderation items about media: a string key for the media id

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('moderation_items') as batch:
        batch.add_column(sa.Column('target_key', sa.String(length=64), nullable=True))
    op.create_index('ix_items_target_key', 'moderation_items', ['target_key'])


def downgrade() -> None:
    op.drop_index('ix_items_target_key', table_name='moderation_items')
    with op.batch_alter_table('moderation_items') as batch:
        batch.drop_column('target_key')
