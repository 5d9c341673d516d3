"""jobs: a queue of background work with leases and retries (media processing, webhook
delivery, sweeps), and a job for every upload a stopped server left processing

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('payload', sa.Text(), server_default='{}', nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('run_at', sa.BigInteger(), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('leased_by', sa.String(length=64), nullable=True),
        sa.Column('lease_until', sa.BigInteger(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_jobs_due', 'jobs', ['state', 'run_at'])
    # Uploads that were processing when the server stopped were resumed at its start; now
    # a job carries each.
    op.execute("INSERT INTO jobs (kind, key, payload, state, run_at, created_at) "
               "SELECT 'media.process', 'media:' || id, '{\"media_id\": \"' || id || '\"}', "
               "'queued', 0, 0 FROM media WHERE state = 'processing'")


def downgrade() -> None:
    op.drop_index('ix_jobs_due', table_name='jobs')
    op.drop_table('jobs')
