"""PostgreSQL with several writers: positions commit in any order, readers never skip one.

Writers are real OS processes (`tests/stream_writer.py`) on one database, taking positions
from the sequence and committing, holding or rolling back as the test tells them. Readers
poll as live delivery's gap filling does: the complete head, then every event up to it. A
reader must never pass a position that commits later (its client would miss it forever),
and must pass, in the end, every position that never will (rolled back, or its writer
killed): what each reader read is exactly what committed, in order.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from darbuka.storage import Database, Stores
from darbuka.storage.migrate import migrate
from tests.conftest import LiveServer, _pg_admin
from tests.helpers import Api, Socket, wait_until


class Writer:
    """One writer process, told what to do line by line."""

    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.stream_writer", url], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": "src"})
        assert self.answer() == {"ready": True}

    def tell(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def answer(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the writer process died"
        return orjson.loads(line)

    def hold(self, count: int) -> list[int]:
        self.tell(f"hold {count}")
        positions: list[int] = self.answer()["positions"]
        return positions

    def end(self, how: str) -> None:
        self.tell(how)
        assert self.answer() == {"done": True}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.tell("quit")
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


class Reader:
    """Reads as the bus's gap filling does (`container._stored_events`): the head first,
    then every stored event up to it; its cursor is the head (all before it decided)."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.stores = Stores()
        self.cursor = 0
        self.read: list[int] = []

    async def poll(self) -> int:
        async with self.db.read() as conn:
            head = await self.stores.events.head(conn)
            rows = await self.stores.events.between(conn, self.cursor, head)
        self.read.extend(int(row["pos"]) for row in rows)
        self.cursor = max(self.cursor, head)
        return head

    async def until(self, pos: int) -> None:
        """Poll until the head reaches `pos` (a deadline, no sleeps of fixed length)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while await self.poll() < pos:
            assert loop.time() < deadline, f"the head stayed below {pos}"
            await asyncio.sleep(0.01)


@pytest.fixture
def stream_db(pg_url: str) -> str:
    async def fresh() -> None:
        await _pg_admin(pg_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        db = Database(pg_url)
        try:
            await migrate(db, then=Stores().events.ensure_stream)
        finally:
            await db.dispose()

    asyncio.run(fresh())
    return pg_url


@pytest.fixture
def writers(stream_db: str) -> Iterator[list[Writer]]:
    started = [Writer(stream_db) for _ in range(3)]
    try:
        yield started
    finally:
        for writer in started:
            writer.close()


def test_a_held_position_holds_readers_back_until_it_commits(stream_db: str,
                                                            writers: list[Writer]) -> None:
    slow, fast, _ = writers

    async def run() -> None:
        reader = Reader(stream_db)
        try:
            await reader.poll()
            held = slow.hold(2)  # positions taken, COMMIT delayed
            fast.tell("burst 20 1")
            later = fast.answer()["committed"]
            assert min(later) > max(held)
            # Twenty transactions committed after the held ones: none may be read yet.
            for _ in range(5):
                assert await reader.poll() < held[0]
            assert reader.read == []
            slow.end("commit")
            await reader.until(max(later))
            assert reader.read == sorted(held + later)
        finally:
            await reader.db.dispose()

    asyncio.run(run())


def test_a_rolled_back_or_killed_writer_leaves_a_hole_readers_pass(stream_db: str,
                                                                   writers: list[Writer]
                                                                   ) -> None:
    undone, fast, doomed = writers

    async def run() -> None:
        reader = Reader(stream_db)
        try:
            await reader.poll()
            rolled = undone.hold(1)
            killed = doomed.hold(3)
            fast.tell("burst 10 2")
            later = fast.answer()["committed"]
            assert await reader.poll() < min(rolled + killed)
            undone.end("rollback")
            assert await reader.poll() < min(killed)  # the killed one still holds its own
            doomed.proc.kill()  # its connection drops: PostgreSQL rolls it back
            doomed.proc.wait()
            await reader.until(max(later))
            assert reader.read == sorted(later)
        finally:
            await reader.db.dispose()

    asyncio.run(run())


def test_readers_read_exactly_what_committed_in_order_under_concurrent_writers(
        stream_db: str, writers: list[Writer]) -> None:
    async def run() -> None:
        readers = [Reader(stream_db) for _ in range(2)]
        done = asyncio.Event()

        async def keep_reading(reader: Reader) -> None:
            while not done.is_set():
                await reader.poll()
                await asyncio.sleep(0.002)

        try:
            polling = [asyncio.create_task(keep_reading(r)) for r in readers]
            for seed, writer in enumerate(writers):
                writer.tell(f"burst 60 {seed + 10}")
            committed = await asyncio.gather(*(asyncio.to_thread(w.answer) for w in writers))
            done.set()
            await asyncio.gather(*polling)
            everything = sorted(p for answer in committed for p in answer["committed"])
            for reader in readers:
                await reader.until(everything[-1])
                assert reader.read == everything
        finally:
            for reader in readers:
                await reader.db.dispose()

    asyncio.run(run())


def test_a_socket_that_signs_in_behind_a_held_position_still_gets_what_came_before(
        database_url: str, server: LiveServer, alice: Api, bob: Api) -> None:
    """An event the hub handed out before a socket attached reaches it only through its
    replay from storage; while a held position keeps the complete head below that event,
    the replay waits for the head instead of declaring itself done without it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("one writer on SQLite: positions commit in order")
    chat = alice.direct(bob)
    cursor = bob.sync()["cursor"]
    holder = Writer(database_url)
    try:
        held = holder.hold(1)  # another process's write, its COMMIT delayed
        sent = alice.send(chat["id"], "past the held position")
        assert sent["seq"] >= 1
        seen: list[str] = []
        with server.app.state.runtime.db.watch_statements(seen.append):
            sock = Socket(server.ws_url, bob.token or "", cursor=cursor)
            # The replay reads its page again and again, waiting for the head: it does not
            # send `ready` without the message.
            wait_until(lambda: sum("anon_1.payload" in q for q in seen) >= 3,
                       message="the replay waits for the head")
        try:
            holder.end("rollback")  # the head may pass the hole now
            sock.ready()  # after the replay, which has the first message
            alice.send(chat["id"], "and after it")
            sock.recv_until(lambda f: f["type"] == "message.new"
                            and f["message"]["text"] == "and after it")
            texts = [f["message"]["text"] for f in sock.frames if f["type"] == "message.new"]
            assert texts == ["past the held position", "and after it"]
            assert int(sock.cursor or 0) > held[0]
        finally:
            sock.close()
    finally:
        holder.close()
