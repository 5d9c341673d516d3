"""The device's own file: the outbox of unsent messages and the stream cursor.

Plain `sqlite3` in WAL mode; every call runs in the store's own thread so the event loop never
waits on the disk. A send is written here (with its client id) before it is ever put on
the wire, so a process killed at any moment resends it under the same id after a restart,
and the server's (sender, client_id) uniqueness turns a repeat into a no-op.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from darbuka.client.models import OutboxItem

__all__ = ["LocalStore"]

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    chat_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    queued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL DEFAULT 0,
    -- Set when the server refused the send for good (e.g. not a member): not retried.
    error TEXT,
    kind TEXT,
    media_id TEXT,
    -- A file to upload first (tus); `upload` is 'pending' until the server has every byte,
    -- then 'done'. The upload id (= media id) is kept as soon as the server gives it, so a
    -- restarted process asks the server where to resume instead of starting over.
    file TEXT,
    file_size INTEGER,
    upload TEXT,
    -- JSON ranges over `text` (darbuka.markup), as sent.
    markup TEXT
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


# Columns added since the first device files, in the order they came.
ADDED_COLUMNS = (("kind", "TEXT"), ("media_id", "TEXT"), ("file", "TEXT"),
                 ("file_size", "INTEGER"), ("upload", "TEXT"), ("markup", "TEXT"))
ITEM_COLUMNS = ("client_id, chat_id, text, queued_at, attempts, error, kind, media_id, file, "
                "markup")


class LocalStore:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One thread owns the connection: sqlite3 objects never cross threads.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="darbuka-store")
        self._db: sqlite3.Connection = self._thread.submit(self._open).result()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        # NORMAL in WAL survives a killed process; only a power cut may lose the last writes.
        db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + SCHEMA)
        # Device files from before media sends or markup lack those columns: add them.
        have = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
        for column, sql_type in ADDED_COLUMNS:
            if column not in have:
                db.execute(f"ALTER TABLE outbox ADD COLUMN {column} {sql_type}")
        return db

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        future = self._thread.submit(fn, self._db)
        return await asyncio.wrap_future(future)

    # -- outbox ---------------------------------------------------------------------------

    async def enqueue(self, items: Iterable[tuple[int, str]], *,
                      markup: str | None = None) -> list[str]:
        """Queue (chat_id, text) sends in one transaction, each with `markup` (JSON);
        returns their new client ids."""
        rows = [(str(uuid.uuid4()), chat_id, text, time.time(), markup)
                for chat_id, text in items]

        def put(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT INTO outbox (client_id, chat_id, text, queued_at, "
                               "markup) VALUES (?, ?, ?, ?, ?)", rows)

        await self._run(put)
        return [r[0] for r in rows]

    async def enqueue_file(self, chat_id: int, path: str, size: int, kind: str,
                           caption: str) -> str:
        """Queue a media send whose file is still to be uploaded; returns its client id."""
        client_id = str(uuid.uuid4())
        await self._run(lambda db: db.execute(
            "INSERT INTO outbox (client_id, chat_id, text, queued_at, kind, file, file_size, "
            "upload) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
            (client_id, chat_id, caption, time.time(), kind, path, size)))
        return client_id

    async def uploads_pending(self) -> list[tuple[str, str, int, str, str | None]]:
        """(client_id, file, size, kind, upload id or None) of unfinished uploads."""
        rows = await self._run(lambda db: db.execute(
            "SELECT client_id, file, file_size, kind, media_id FROM outbox "
            "WHERE upload = 'pending' AND error IS NULL ORDER BY seq").fetchall())
        return [(str(r[0]), str(r[1]), int(r[2]), str(r[3]), r[4]) for r in rows]

    async def set_upload(self, client_id: str, media_id: str, *, done: bool) -> None:
        await self._run(lambda db: db.execute(
            "UPDATE outbox SET media_id = ?, upload = ? WHERE client_id = ?",
            (media_id, "done" if done else "pending", client_id)))

    async def due(self, *, limit: int, exclude: set[str], now: float) -> list[OutboxItem]:
        """The oldest sends that may go out now, in the order they were queued."""
        def query(db: sqlite3.Connection) -> list[Any]:
            return db.execute(
                f"SELECT {ITEM_COLUMNS} FROM outbox WHERE error IS NULL AND next_at <= ? "  # noqa: S608 - a constant
                "AND (upload IS NULL OR upload = 'done') ORDER BY seq LIMIT ?",
                (now, limit + len(exclude))).fetchall()

        rows = await self._run(query)
        return [OutboxItem(*r) for r in rows if r[0] not in exclude][:limit]

    async def pending(self) -> list[OutboxItem]:
        """Everything not yet acknowledged, failed ones included (to show a mark)."""
        rows = await self._run(lambda db: db.execute(
            f"SELECT {ITEM_COLUMNS} FROM outbox ORDER BY seq").fetchall())  # noqa: S608 - a constant
        return [OutboxItem(*r) for r in rows]

    async def count_unsent(self) -> int:
        row = await self._run(lambda db: db.execute(
            "SELECT count(*) FROM outbox WHERE error IS NULL").fetchone())
        return int(row[0])

    async def next_due_at(self) -> float | None:
        row = await self._run(lambda db: db.execute(
            "SELECT min(next_at) FROM outbox WHERE error IS NULL").fetchone())
        return None if row[0] is None else float(row[0])

    async def done(self, client_ids: list[str]) -> None:
        await self._run(lambda db: db.executemany(
            "DELETE FROM outbox WHERE client_id = ?", [(c,) for c in client_ids]))

    async def retry_later(self, client_id: str, delay: float) -> None:
        await self._run(lambda db: db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE client_id = ?",
            (time.time() + delay, client_id)))

    async def attempts(self, client_id: str) -> int:
        row = await self._run(lambda db: db.execute(
            "SELECT attempts FROM outbox WHERE client_id = ?", (client_id,)).fetchone())
        return int(row[0]) if row else 0

    async def fail(self, client_id: str, error: str) -> None:
        await self._run(lambda db: db.execute(
            "UPDATE outbox SET error = ? WHERE client_id = ?", (error, client_id)))

    # -- state ----------------------------------------------------------------------------

    async def get(self, key: str) -> str | None:
        row = await self._run(lambda db: db.execute(
            "SELECT value FROM state WHERE key = ?", (key,)).fetchone())
        return None if row is None else str(row[0])

    async def put(self, key: str, value: str) -> None:
        await self._run(lambda db: db.execute(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value)))

    def close(self) -> None:
        self._thread.submit(self._db.close).result()
        self._thread.shutdown()
