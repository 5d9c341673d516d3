"""Where a phase's data lives: SQLite in its folder, or a fresh PostgreSQL database.

`DARBUKA_BENCH_DATABASE_URL` (a PostgreSQL server URL the benchmark may create databases
on, e.g. `postgresql://postgres@127.0.0.1:5432/postgres`) adds a PostgreSQL run of every
phase; each phase gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

__all__ = ["engines", "fresh_database"]


def engines() -> list[str]:
    """The engines to run on: always SQLite, PostgreSQL when the variable is set."""
    return ["sqlite", "postgresql"] if os.environ.get("DARBUKA_BENCH_DATABASE_URL") else ["sqlite"]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(os.environ["DARBUKA_BENCH_DATABASE_URL"])
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_database(engine: str) -> AsyncIterator[str]:
    """The database URL for one phase: "" means SQLite in the data folder."""
    if engine == "sqlite":
        yield ""
        return
    admin = os.environ["DARBUKA_BENCH_DATABASE_URL"]
    name = f"darbuka_bench_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
