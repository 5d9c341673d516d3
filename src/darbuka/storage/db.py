"""Engines and dialect differences. Only this package knows SQLite from PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from darbuka.files import private_dir, private_file

__all__ = ["Database", "in_chunks", "normalise_url"]

# Keeps every IN (...) list well under SQLite's and asyncpg's parameter limits.
CHUNK = 500


def in_chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


class Database:
    """A read engine and a write engine over the same database.

    SQLite allows one writer at a time, so all writes go through a single connection (the
    writer holds it) that starts its transactions with BEGIN IMMEDIATE; readers use a pool
    and never block the writer in WAL mode. PostgreSQL uses one pool for both.
    """

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        sqlite_synchronous = sqlite_synchronous.upper()
        if sqlite_synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("DARBUKA_SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA")
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                # SQLite gives its -wal and -shm files the database file's mode.
                database = Path(parsed.database)
                private_dir(database.parent)
                private_file(database)
                for journal in ("-wal", "-shm"):
                    if (side := database.with_name(database.name + journal)).exists():
                        private_file(side)
            self.read_engine = create_async_engine(self.url, pool_size=4, max_overflow=8)
            self.write_engine = create_async_engine(self.url, pool_size=1, max_overflow=0)
            _sqlite_pragmas(self.read_engine, sqlite_synchronous, immediate=False)
            _sqlite_pragmas(self.write_engine, sqlite_synchronous, immediate=True)
        else:
            self.read_engine = create_async_engine(self.url, pool_size=10, max_overflow=20)
            self.write_engine = self.read_engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one read transaction (one snapshot on both engines)."""
        async with self.read_engine.connect() as conn:
            if not self.is_sqlite:
                await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.write_engine.connect() as conn, conn.begin():
            yield conn

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


def _sqlite_pragmas(engine: AsyncEngine, synchronous: str, *, immediate: bool) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Leave transaction control to the "begin" hook below instead of the driver's guesses.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers (the server and an admin
        # command) wait on busy_timeout instead of failing mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
