"""Bring a database to the newest schema with Alembic (numbered, append-only migrations).

On PostgreSQL several processes may start at once (`darbuka migrate` in a deploy step and
every `darbuka serve`): each takes the same advisory lock for its migration transaction, so
one migrates while the others wait and then find the schema current. A transaction-scoped
lock (`pg_advisory_xact_lock`) is released by COMMIT or by the connection dropping, and it
holds through PgBouncer's transaction pooling too. SQLite needs none: the write connection
begins with BEGIN IMMEDIATE, which already lets one process in at a time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from darbuka.storage.db import Conn, Database

__all__ = ["MIGRATION_LOCK", "alembic_config", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"
# The advisory lock's key: any 64-bit number no other tool on the database uses
# (the ASCII of "darbuka" and a 1, for "migrations").
MIGRATION_LOCK = 0x64617262756B6101


def alembic_config(connection: Any = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(db: Database, *,
                  then: Callable[[Conn], Awaitable[None]] | None = None) -> None:
    """Migrate to the newest schema, then run `then` (start-up rows such as the stream's),
    each under the migration lock: two processes never both migrate, nor both create."""
    def upgrade(conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            # Waits while another process migrates; the versions are read after it.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        command.upgrade(alembic_config(conn), "head")

    await db.run_sync(upgrade)
    if then is not None:
        async with db.write() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})
            await then(conn)
