"""banks: scans of stored media against the hashes a bank gains, URL and domain signals
(longer bank hashes and match texts), and sends held for review by a link

Revision ID: 0020
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0017'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'bank_scans',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('bank_id', sa.BigInteger(), nullable=False),
        sa.Column('from_version', sa.BigInteger(), nullable=False),
        sa.Column('to_version', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('hashes', sa.Integer(), server_default='0', nullable=False),
        sa.Column('total', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('scanned', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('cursor', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('matched', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('started_at', sa.BigInteger(), nullable=True),
        sa.Column('finished_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bank_scans_bank', 'bank_scans', ['bank_id', 'state'])
    op.create_table(
        'link_held_sends',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('sender_id', sa.BigInteger(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('item_id', sa.BigInteger(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sender_id', 'client_id', name='uq_link_held_sends_client'),
    )
    # A link's normalised text is longer than any hash (bank_hashes.hash is a BLOB or
    # bytea already, without a length).
    with op.batch_alter_table('matches') as batch_op:
        for column in ('query_hash', 'banked_hash'):
            batch_op.alter_column(column, type_=sa.String(length=2048),
                                  existing_type=sa.String(length=64), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('matches') as batch_op:
        for column in ('query_hash', 'banked_hash'):
            batch_op.alter_column(column, type_=sa.String(length=64),
                                  existing_type=sa.String(length=2048),
                                  existing_nullable=False)
    op.drop_table('link_held_sends')
    op.drop_index('ix_bank_scans_bank', table_name='bank_scans')
    op.drop_table('bank_scans')
