"""SQLite backups and restores; on PostgreSQL `pg_dump` and `pg_restore` do this (see
docs/deploy.md), and a restore only starts a new stream epoch (`start_epoch`).

A backup is a consistent copy taken with SQLite's online backup API while the server runs:
it reads one snapshot (WAL mode: the server's writer is never blocked). The copy is put in
the next stream epoch at once, so however it is later put back — `darbuka restore`, or a
plain copy over the database — clients whose cursors are newer than the backup get `reset`
instead of a replay that would skip what the backup lost.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from darbuka.files import private_file
from darbuka.storage.db import Database, normalise_url
from darbuka.storage.events import EventStore
from darbuka.stream import epoch_of, epoch_start, next_epoch

__all__ = ["backup_sqlite", "restore_sqlite", "sqlite_path", "start_epoch"]

JOURNALS = ("-wal", "-shm")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for any other database."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _copy(source: Path, target: Path, *, check: bool = False) -> None:
    """Copy one snapshot of `source` into a new file `target` (the online backup API)."""
    src = sqlite3.connect(source, timeout=30)
    try:
        if check and src.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise ValueError(f"{source} is damaged (PRAGMA quick_check)")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # is it SQLite at all
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # all pages in one step: one snapshot, however busy the source
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        target.unlink(missing_ok=True)
        raise ValueError(f"{source} is not a SQLite database: {exc}") from exc
    finally:
        src.close()
    private_file(target)


async def start_epoch(url: str, *, at_least: int = 0) -> int:
    """Begin the next stream epoch in the database at `url` (a restored PostgreSQL one);
    return it."""
    db = Database(url)
    try:
        async with db.write() as conn:
            return await EventStore().start_epoch(conn, at_least=at_least)
    finally:
        await db.dispose()


def _head(path: Path) -> int:
    conn = sqlite3.connect(path, timeout=30)
    try:
        row = conn.execute("SELECT pos FROM streams WHERE id = 0").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path} is not a Darbuka database: {exc}") from exc
    finally:
        conn.close()
    if row is None:
        raise ValueError(f"{path} is not a Darbuka database: it has no event stream")
    return int(row[0])


def _start_epoch_in_file(path: Path, *, at_least: int = 0) -> int:
    """`EventStore.start_epoch` on a copy that is not served: with the standard library,
    so that nothing opens it as a live database (which would tighten its folder)."""
    epoch = next_epoch(_head(path), at_least=at_least)
    conn = sqlite3.connect(path, timeout=30)
    try:
        with conn:
            conn.execute("UPDATE streams SET pos = ? WHERE id = 0", (epoch_start(epoch),))
    finally:
        conn.close()
    return epoch


def backup_sqlite(source: Path, target: Path) -> int:
    """A consistent copy of the live database `source` at `target`, in the next stream
    epoch (returned). Written beside `target` first: a failed backup leaves no half file."""
    if target.exists():
        raise ValueError(f"{target} exists already; choose a new name")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy(source, partial)
    try:
        epoch = _start_epoch_in_file(partial)
        _checkpoint(partial)
        os.replace(partial, target)
    finally:
        _remove(partial)
    return epoch


def restore_sqlite(backup: Path, live: Path) -> int:
    """Put `backup` in place of the database `live` (every server stopped) in a stream
    epoch later than both its own and the live one's (returned). The database it replaces
    is kept beside it as `<name>.before-restore`."""
    if not backup.is_file():
        raise ValueError(f"{backup}: no such file")
    partial = live.with_name(live.name + ".restoring")
    _remove(partial)
    _copy(backup, partial, check=True)
    try:
        after = 0
        if live.exists():
            _checkpoint(live)  # what its WAL held is in the file we keep
            after = epoch_of(_head(live)) + 1
        epoch = _start_epoch_in_file(partial, at_least=after)
        _checkpoint(partial)
        if live.exists():
            os.replace(live, live.with_name(live.name + ".before-restore"))
        for journal in JOURNALS:  # a journal left beside the new file would be applied to it
            live.with_name(live.name + journal).unlink(missing_ok=True)
        os.replace(partial, live)
    finally:
        _remove(partial)
    return epoch


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file, so the file alone is the whole database."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for journal in JOURNALS:
        with contextlib.suppress(FileNotFoundError):
            side = path.with_name(path.name + journal)
            if side.stat().st_size == 0:
                side.unlink()


def _remove(path: Path) -> None:
    for name in (path.name, *(path.name + j for j in JOURNALS)):
        path.with_name(name).unlink(missing_ok=True)
