"""moderator console: claims on queue items, each moderator's preview settings, and an index
of bank matches by what was checked

Revision ID: 0025
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('moderation_items') as batch:
        batch.add_column(sa.Column('claimed_by', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('claimed_at', sa.BigInteger(), nullable=True))
    op.create_table(
        'moderator_settings',
        sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('settings', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_index('ix_matches_subject', 'matches', ['subject'])


def downgrade() -> None:
    op.drop_index('ix_matches_subject', table_name='matches')
    op.drop_table('moderator_settings')
    with op.batch_alter_table('moderation_items') as batch:
        batch.drop_column('claimed_at')
        batch.drop_column('claimed_by')
