"""event positions from a sequence on PostgreSQL: writers on several processes stop queueing
on the `streams` row (see `storage/stream_head.py`); SQLite keeps its one writer

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


# One look at the stream for the proof of its head: the sequence's last value first, then
# the backends of this database holding a transaction id (in that order: plpgsql runs its
# statements one after the other; neither read is MVCC's).
LOOK = """
CREATE FUNCTION darbuka_stream_look(OUT top bigint, OUT writing text[])
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END INTO top
        FROM event_pos;
    SELECT coalesce(array_agg(a.pid::text || ':' || a.backend_xid::text), '{}') INTO writing
        FROM pg_stat_activity AS a
        WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL
          AND a.pid <> pg_backend_pid();
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE event_pos MINVALUE 0 START 1 CACHE 1")
    # Go on from the positions the row handed out (0 for a new database).
    op.execute("SELECT setval('event_pos', "
               "COALESCE((SELECT max(pos) FROM streams), 0), true)")
    op.execute(LOOK)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION darbuka_stream_look()")
    op.execute("UPDATE streams SET pos = (SELECT last_value FROM event_pos) WHERE id = 0")
    op.execute("DROP SEQUENCE event_pos")
