"""Engines and dialect differences. Only this package knows SQLite from PostgreSQL.

Stores and services see a `Conn`: one open transaction with an awaitable `execute`.

SQLite runs its statements on the event loop, through SQLAlchemy's synchronous engine: a
statement on a local file in WAL mode takes microseconds, while the async driver hands
every statement to a thread and back (measured: about 230 µs of CPU per statement through
aiosqlite against 22 µs in the loop — the difference was most of an HTTP request's cost).
What can wait on the disk goes to a thread instead: opening a connection and COMMIT (its
fsync is the durability we promise). BEGIN IMMEDIATE, which waits when another process (an
admin command) holds the write lock, is tried on the loop without waiting and, while the
lock is taken, tried again after a pause. PostgreSQL's driver is natively async.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar, TypeVarTuple, overload

from sqlalchemy import Connection, Dialect, Engine, create_engine, event, text
from sqlalchemy.engine import CursorResult, RootTransaction, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

from darbuka.files import private_dir, private_file
from darbuka.storage.prepared import Query

__all__ = ["Conn", "Database", "Query", "in_chunks", "normalise_url"]

# Keeps every IN (...) list well under SQLite's and asyncpg's parameter limits.
CHUNK = 500
# SQLite readers open at once; more wait their turn (reads take microseconds).
SQLITE_READERS = 8
# How long a write waits for another process's write lock before it fails.
SQLITE_BUSY_S = 10.0
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def in_chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + url.split("://", 1)[1]
    return url


class Conn:
    """One open transaction. `execute` answers a buffered result on both engines."""

    __slots__ = ("dialect",)

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    @overload
    async def execute(  # type: ignore[overload-overlap]
            self, statement: TypedReturnsRows[*Ts],
            parameters: Any = None) -> CursorResult[*Ts]: ...

    @overload
    async def execute(self, statement: Executable,
                      parameters: Any = None) -> CursorResult[Any]: ...

    async def execute(self, statement: Executable,
                      parameters: Any = None) -> CursorResult[Any]:
        raise NotImplementedError

    async def rows(self, query: Query, params: Mapping[str, Any]) -> list[Any]:
        """A hot-path query's rows, as tuples (see `prepared.py`)."""
        raise NotImplementedError

    async def run(self, query: Query, params: Mapping[str, Any]) -> int:
        """A hot-path write; answers the number of rows it changed."""
        raise NotImplementedError

    async def run_many(self, query: Query, params: Sequence[Mapping[str, Any]]) -> None:
        """A hot-path write once per parameter set (no expanding parameters)."""
        raise NotImplementedError

    @property
    def snapshot_pending(self) -> bool:
        """A read transaction whose snapshot is not taken yet: `before_snapshot` runs
        outside it, each time with a snapshot of its own (PostgreSQL)."""
        return False

    async def before_snapshot(self, sql: str) -> tuple[Any, ...] | None:
        """The one row `sql` reads — of something outside MVCC, such as a sequence — read
        before the snapshot that this transaction's next statement sees is taken; None
        when that can no longer be had (a repeatable-read transaction whose snapshot is
        taken), or is not needed (SQLite: its one writer keeps positions in order)."""
        return None


class _InLoop(Conn):
    __slots__ = ("_conn", "_heard", "_raw")

    def __init__(self, conn: Connection, heard: list[Callable[[str], None]]) -> None:
        super().__init__(conn.dialect)
        self._conn = conn
        # The driver's connection, inside the transaction SQLAlchemy began.
        self._raw: Any = conn.connection.driver_connection
        self._heard = heard

    async def execute(self, statement: Executable,
                      parameters: Any = None) -> CursorResult[Any]:
        return self._conn.execute(statement, parameters)

    async def rows(self, query: Query, params: Mapping[str, Any]) -> list[Any]:
        sql, values = query.for_sqlite(params)
        self._tell(sql)
        rows: list[Any] = self._raw.execute(sql, values).fetchall()
        return rows

    async def run(self, query: Query, params: Mapping[str, Any]) -> int:
        sql, values = query.for_sqlite(params)
        self._tell(sql)
        return int(self._raw.execute(sql, values).rowcount)

    async def run_many(self, query: Query, params: Sequence[Mapping[str, Any]]) -> None:
        if not params:
            return
        sql, _ = query.for_sqlite(params[0])
        self._tell(sql)
        self._raw.executemany(sql, [query.for_sqlite(p)[1] for p in params])

    def _tell(self, sql: str) -> None:
        for heard in self._heard:
            heard(sql)


class _Async(Conn):
    __slots__ = ("_conn", "_fresh", "_heard", "_repeatable")

    def __init__(self, conn: AsyncConnection, heard: list[Callable[[str], None]], *,
                 repeatable: bool) -> None:
        super().__init__(conn.dialect)
        self._conn = conn
        self._heard = heard
        # A repeatable-read transaction takes its snapshot at its first statement; until
        # then (fresh) nothing has been sent, not even BEGIN (the driver sends it lazily).
        self._repeatable = repeatable
        self._fresh = True

    async def execute(self, statement: Executable,
                      parameters: Any = None) -> CursorResult[Any]:
        self._fresh = False
        return await self._conn.execute(statement, parameters)

    async def rows(self, query: Query, params: Mapping[str, Any]) -> list[Any]:
        self._fresh = False
        return list((await self._conn.execute(query.statement, dict(params))).all())

    async def run(self, query: Query, params: Mapping[str, Any]) -> int:
        self._fresh = False
        return int((await self._conn.execute(query.statement, dict(params))).rowcount)

    async def run_many(self, query: Query, params: Sequence[Mapping[str, Any]]) -> None:
        self._fresh = False
        if params:
            await self._conn.execute(query.statement, [dict(p) for p in params])

    @property
    def snapshot_pending(self) -> bool:
        return self._repeatable and self._fresh

    async def before_snapshot(self, sql: str) -> tuple[Any, ...] | None:
        if not self._repeatable:  # read committed: each statement takes a later snapshot
            return tuple((await self.execute(text(sql))).one())
        if not self._fresh:
            return None
        # On the driver's connection, outside the transaction SQLAlchemy has yet to begin.
        raw: Any = self._conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        for heard in self._heard:
            heard(sql)
        return tuple(await raw.fetchrow(sql))


class Database:
    """A read side and a write side over the same database.

    SQLite allows one writer at a time, so all writes go through a single connection (the
    writer holds it) that starts its transactions with BEGIN IMMEDIATE; readers use a few
    connections and never block the writer in WAL mode. PostgreSQL uses one pool for both.
    """

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        sqlite_synchronous = sqlite_synchronous.upper()
        if sqlite_synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("DARBUKA_SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA")
        self.url = normalise_url(url)
        # Who hears every statement run on the driver's cursor (`watch_statements`).
        self._heard: list[Callable[[str], None]] = []
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
            # Connections move between the loop and a worker thread (COMMIT), never used
            # by two at once: each belongs to one transaction at a time.
            args = {"check_same_thread": False}
            self._readers = create_engine(self.url, pool_size=SQLITE_READERS, max_overflow=0,
                                          connect_args=args)
            self._writers = create_engine(self.url, pool_size=1, max_overflow=0,
                                          connect_args=args)
            _sqlite_pragmas(self._readers, sqlite_synchronous, busy_ms=int(SQLITE_BUSY_S * 1000),
                            immediate=False)
            # The writer never waits inside SQLite: `_begin_immediate` waits on the loop.
            _sqlite_pragmas(self._writers, sqlite_synchronous, busy_ms=0, immediate=True)
            # The pools never block the loop: at most their size is checked out.
            self._read_gate = asyncio.Semaphore(SQLITE_READERS)
            self._write_gate = asyncio.Semaphore(1)
        else:
            self._engine = create_async_engine(self.url, pool_size=10, max_overflow=20)

    @contextmanager
    def watch_statements(self, heard: Callable[[str], None]) -> Iterator[None]:
        """Call `heard(sql)` for every statement either side runs meanwhile (for tests that
        count them: a regression shows as a number, not a timing)."""
        engines = ([self._readers, self._writers] if self.is_sqlite
                   else [self._engine.sync_engine])

        def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            heard(statement)

        for engine in engines:
            event.listen(engine, "before_cursor_execute", on_execute)
        self._heard.append(heard)
        try:
            yield
        finally:
            self._heard.remove(heard)
            for engine in engines:
                event.remove(engine, "before_cursor_execute", on_execute)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """A connection inside one read transaction (one snapshot on both engines)."""
        if not self.is_sqlite:
            async with self._engine.connect() as pg:
                await pg.execution_options(isolation_level="REPEATABLE READ")
                async with pg.begin():
                    yield _Async(pg, self._heard, repeatable=True)
            return
        async with self._read_gate:
            conn = await _checkout(self._readers)
            try:
                # A deferred BEGIN takes no lock: it returns at once.
                with conn.begin():
                    yield _InLoop(conn, self._heard)
            finally:
                conn.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Conn]:
        if not self.is_sqlite:
            async with self._engine.connect() as pg, pg.begin():
                yield _Async(pg, self._heard, repeatable=False)
            return
        async with self._write_gate:
            conn = await _checkout(self._writers)
            try:
                transaction = await _begin_immediate(conn)
                try:
                    yield _InLoop(conn, self._heard)
                except BaseException:
                    transaction.rollback()
                    raise
                # The fsync, in a thread: the driver's own COMMIT, which lets go of the GIL at
                # once. Through SQLAlchemy the thread first ran its bookkeeping holding the
                # GIL while the loop waited (a third of the loop's time under single sends).
                # Its transaction then ends without a statement: the driver's commit() is a
                # no-op outside a transaction.
                raw = conn.connection.driver_connection
                assert raw is not None  # noqa: S101 - an open connection
                await _off_loop(lambda: raw.execute("COMMIT"))
                transaction.commit()
            finally:
                conn.close()

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Whether this process may do the work called `name` now, no other process doing
        it meanwhile: on PostgreSQL a session advisory lock (`pg_try_advisory_lock`) held
        on a connection of its own until the block ends, or until that connection drops
        with a dead process. SQLite's installations are one machine's: always True (the
        job queue's lease already keeps the work to one taker)."""
        if self.is_sqlite:
            yield True
            return
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                             signed=True)
        async with self._engine.connect() as pg:
            got = bool((await pg.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                         {"k": key})).scalar())
            await pg.commit()
            try:
                yield got
            finally:
                if got:
                    await pg.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await pg.commit()

    async def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` with a synchronous connection in one committed transaction, off the
        loop: for Alembic, which drives its own statements."""
        if not self.is_sqlite:
            async with self._engine.connect() as pg:
                result = await pg.run_sync(fn)
                await pg.commit()
                return result

        def run() -> T:
            with self._writers.connect() as conn:
                # In a thread of its own, it may wait for the lock inside SQLite. Set on the
                # driver's connection: through SQLAlchemy the PRAGMA would itself begin the
                # transaction (BEGIN IMMEDIATE), before the wait it sets applies — a start
                # beside another process's write then failed at once, "database is locked".
                raw = conn.connection.driver_connection
                assert raw is not None  # noqa: S101 - an open connection
                raw.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
                try:
                    result = fn(conn)
                    conn.commit()
                finally:
                    raw.execute("PRAGMA busy_timeout=0")
                return result

        async with self._write_gate:
            return await _off_loop(run)

    async def dispose(self) -> None:
        if self.is_sqlite:
            self._readers.dispose()
            self._writers.dispose()
        else:
            await self._engine.dispose()


async def _checkout(engine: Engine) -> Connection:
    """A pooled connection; a new one is opened in a thread (it touches the disk)."""
    if engine.pool.checkedin():  # type: ignore[attr-defined]
        return engine.connect()
    return await _off_loop(engine.connect)


async def _begin_immediate(conn: Connection) -> RootTransaction:
    """BEGIN IMMEDIATE on the loop: at once when the write lock is free (it is but for
    admin commands), else again after a pause, for up to `SQLITE_BUSY_S`."""
    deadline = time.monotonic() + SQLITE_BUSY_S
    pause = 0.001
    while True:
        try:
            return conn.begin()
        except OperationalError as exc:
            if getattr(exc.orig, "sqlite_errorname", "") != "SQLITE_BUSY" or (
                    time.monotonic() > deadline):
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


async def _off_loop(fn: Callable[[], T]) -> T:
    """`fn()` in a worker thread. Cancelling the caller does not abandon the thread: it
    holds a connection, which nobody may touch (or close) until it is done."""
    future = asyncio.get_running_loop().run_in_executor(None, fn)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(future)
            break
        except asyncio.CancelledError:
            if future.done():
                with contextlib.suppress(BaseException):
                    future.result()
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result


def _sqlite_pragmas(engine: Engine, synchronous: str, *, busy_ms: int,
                    immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Leave transaction control to the "begin" hook below instead of the driver's guesses.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers (the server and an admin
        # command) wait on busy_timeout instead of failing mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
