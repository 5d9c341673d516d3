"""polls: a message's poll definition, the votes, and the vote requests' client ids

Revision ID: 0023
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('poll', sa.Text(), nullable=True))
    op.create_table(
        'poll_votes',
        sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('option', sa.SmallInteger(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', 'user_id', 'option'),
    )
    op.create_table(
        'poll_ballots',
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'client_id'),
    )


def downgrade() -> None:
    op.drop_table('poll_ballots')
    op.drop_table('poll_votes')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('poll')
