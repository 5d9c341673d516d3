"""hash banks, their hashes, matches

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'banks',
        sa.Column('id', Id, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=256), server_default='', nullable=False),
        sa.Column('category', sa.String(length=64), server_default='', nullable=False),
        sa.Column('entity', sa.String(length=128), server_default='', nullable=False),
        sa.Column('pdq_threshold', sa.Integer(), server_default='31', nullable=False),
        sa.Column('quality_floor', sa.Integer(), server_default='50', nullable=False),
        sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
        sa.Column('action', sa.String(length=16), server_default='review', nullable=False),
        sa.Column('negative', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'bank_hashes',
        sa.Column('id', Id, nullable=False),
        sa.Column('bank_id', Id, nullable=False),
        sa.Column('signal', sa.String(length=8), nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('labels', sa.Text(), server_default='{}', nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('removed', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('added_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('bank_id', 'signal', 'hash', name='uq_bank_hashes_hash'),
    )
    op.create_index('ix_bank_hashes_version', 'bank_hashes', ['bank_id', 'version'])
    op.create_table(
        'matches',
        sa.Column('id', Id, nullable=False),
        sa.Column('subject', sa.String(length=128), nullable=False),
        sa.Column('bank_id', sa.BigInteger(), nullable=True),
        sa.Column('bank_name', sa.String(length=64), nullable=False),
        sa.Column('bank_hash_id', sa.BigInteger(), nullable=True),
        sa.Column('signal', sa.String(length=8), nullable=False),
        sa.Column('query_hash', sa.String(length=64), nullable=False),
        sa.Column('banked_hash', sa.String(length=64), nullable=False),
        sa.Column('distance', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_matches_created', 'matches', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_matches_created', table_name='matches')
    op.drop_table('matches')
    op.drop_index('ix_bank_hashes_version', table_name='bank_hashes')
    op.drop_table('bank_hashes')
    op.drop_table('banks')
