"""alerts: the on-call list (e-mail, webhook or chat, by tier) and the alerts sent for
removal orders and urgent reports, with their acknowledgements

Revision ID: 0021
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0014'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'alert_recipients',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=500), nullable=False),
        sa.Column('tier', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'alerts',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('subject', sa.String(length=40), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('acknowledged_at', sa.BigInteger(), nullable=True),
        sa.Column('acknowledged_by', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alerts_subject', 'alerts', ['subject', 'level'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_alerts_subject', table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('alert_recipients')
