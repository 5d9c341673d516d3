"""The SQLite side of `Database`: statements run on the loop, but nothing waits there."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from darbuka.storage.db import Database
from darbuka.storage.migrate import migrate


def test_a_migration_waits_for_another_process_write_instead_of_failing(tmp_path: Path,
                                                                        ) -> None:
    """A server starting beside another that is writing: its migration (Alembic's own
    statements, off the loop) waits for the write lock rather than failing at once."""
    path = tmp_path / "darbuka.db"

    async def run() -> int:
        db = Database(f"sqlite:///{path}")
        try:
            await migrate(db)
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # the other server's transaction
            loop = asyncio.get_running_loop()
            loop.call_later(0.5, lambda: (other.execute("COMMIT"), other.close()))
            return await db.run_sync(
                lambda conn: conn.execute(sa.text("SELECT count(*) FROM users")).scalar_one())
        finally:
            await db.dispose()

    assert asyncio.run(run()) == 0


def test_a_write_waits_for_another_process_lock_without_stopping_the_loop(
        tmp_path: Path) -> None:
    """An admin command holds the write lock: the server's write waits for it, and the
    loop meanwhile serves everyone else (reads included)."""
    path = tmp_path / "darbuka.db"

    async def run() -> tuple[int, int, list[int]]:
        db = Database(f"sqlite:///{path}")
        try:
            await migrate(db)
            async with db.write() as conn:  # the writer's connection is open and pooled
                await conn.execute(sa.text("SELECT 1"))
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # the other process's transaction
            ticks = 0

            async def write() -> None:
                async with db.write() as conn:
                    await conn.execute(sa.text("INSERT INTO users (created_at) VALUES (7)"))

            async def tick() -> None:
                nonlocal ticks
                for _ in range(20):
                    await asyncio.sleep(0.01)
                    async with db.read() as conn:
                        await conn.execute(sa.text("SELECT 1"))
                    ticks += 1

            writing = asyncio.get_running_loop().create_task(write())
            await tick()
            waiting = 0 if writing.done() else 1
            other.execute("COMMIT")
            other.close()
            await asyncio.wait_for(writing, 5)
            async with db.read() as conn:
                rows = [r[0] for r in await conn.execute(
                    sa.text("SELECT created_at FROM users"))]
            return ticks, waiting, rows
        finally:
            await db.dispose()

    ticks, waiting, rows = asyncio.run(run())
    assert ticks == 20  # the loop kept going while the write waited
    assert waiting == 1  # it did wait for the lock
    assert rows == [7]  # and then it was written
