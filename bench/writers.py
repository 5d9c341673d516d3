"""Several writer processes on one PostgreSQL database: sends per second, and how long a
transaction waits to take its positions, with positions from the `streams` row (before
issue 14: its lock held until COMMIT) against the sequence with a proven head (after).

Each process runs Darbuka's own `Writer` (group commit) fed by many concurrent senders;
each send is one transaction's share shaped like the real send path: lock the chat's row,
insert the message, take positions, write the search rows and the event, commit. Senders
write to chats of their own process, so the only row the processes share is the stream's.

    DARBUKA_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/writers.py [--processes 1,2,4] [--senders 32] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import _admin
from darbuka.clock import SystemClock
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.db import Conn
from darbuka.storage.events import _RESERVE
from darbuka.storage.migrate import migrate
from darbuka.stream import Event

SCHEMA = [
    "CREATE TABLE bench_chats (id bigint PRIMARY KEY, last_seq bigint NOT NULL)",
    "CREATE TABLE bench_messages (id bigserial PRIMARY KEY, chat_id bigint, seq bigint, "
    "body text)",
    "CREATE TABLE bench_search (message_id bigint, pos bigint, body text)",
]
CHATS_PER_PROCESS = 64


async def _row_reserve(conn: Conn, count: int) -> list[int]:
    """The scheme before: the `streams` row, locked until COMMIT."""
    rows = await conn.rows(_RESERVE, {"count": count})
    last = int(rows[0][0])
    return list(range(last - count + 1, last + 1))


class _Timed:
    def __init__(self) -> None:
        self.reserve_s = 0.0
        self.reserves = 0


async def _sends(tx: Tx, items: list[tuple[int, str]], *, mode: str, timed: _Timed) -> list[Any]:
    conn = tx.conn
    chats = sorted({chat for chat, _ in items})
    await conn.execute(text("SELECT id FROM bench_chats WHERE id = ANY(:ids) FOR UPDATE"),
                       {"ids": chats})
    await conn.execute(text("UPDATE bench_chats SET last_seq = last_seq + 1 "
                            "WHERE id = ANY(:ids)"), {"ids": chats})
    ids = (await conn.execute(text(
        "INSERT INTO bench_messages (chat_id, seq, body) "
        "SELECT * FROM unnest(CAST(:chats AS bigint[]), CAST(:seqs AS bigint[]), "
        "CAST(:bodies AS text[])) RETURNING id"),
        {"chats": [c for c, _ in items], "seqs": [0] * len(items),
         "bodies": [b for _, b in items]})).scalars().all()
    started = time.perf_counter()
    if mode == "row":
        positions = await _row_reserve(conn, len(items))
    else:
        positions = await tx.reserve(len(items))
    timed.reserve_s += time.perf_counter() - started
    timed.reserves += 1
    await conn.execute(text("INSERT INTO bench_search (message_id, pos, body) "
                            "SELECT * FROM unnest(CAST(:ids AS bigint[]), "
                            "CAST(:pos AS bigint[]), CAST(:bodies AS text[]))"),
                       {"ids": list(ids), "pos": positions, "bodies": [b for _, b in items]})
    for pos, (chat, body) in zip(positions, items, strict=True):
        tx.add(Event(pos=pos, type="message.new", body={"text": body}, chat_id=chat))
    return [None] * len(items)


async def _process(url: str, index: int, mode: str, senders: int, seconds: float,
                   results: Any) -> None:
    db = Database(url)
    writer = Writer(db, Stores(), SystemClock(), lambda _events: None)
    writer.start()
    timed = _Timed()
    sent = 0
    stop_at = time.monotonic() + seconds

    async def fn(tx: Tx, items: list[Any]) -> list[Any]:
        return await _sends(tx, items, mode=mode, timed=timed)

    async def sender(n: int) -> None:
        nonlocal sent
        chat = index * CHATS_PER_PROCESS + n % CHATS_PER_PROCESS
        while time.monotonic() < stop_at:
            await writer.submit(fn, (chat, f"message {sent}"))
            sent += 1

    await asyncio.gather(*(sender(n) for n in range(senders)))
    await writer.stop()
    await db.dispose()
    results.put({"sent": sent, "batches": writer.batches, "reserve_s": timed.reserve_s,
                 "reserves": timed.reserves})


def _run_process(*args: Any) -> None:
    asyncio.run(_process(*args))


async def _prepare(url: str, processes: int) -> None:
    db = Database(url)
    try:
        await migrate(db, then=Stores().events.ensure_stream)
        async with db.write() as conn:
            for sql in SCHEMA:
                await conn.execute(text(sql))
            await conn.execute(text(
                "INSERT INTO bench_chats SELECT g, 0 FROM generate_series(0, :n) g"),
                {"n": processes * CHATS_PER_PROCESS})
    finally:
        await db.dispose()


async def _complete(url: str) -> tuple[int, int]:
    """The committed events, and whether the head now covers them all."""
    db = Database(url)
    try:
        async with db.read() as conn:
            head = await Stores().events.head(conn)
            count = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
        return int(count), head
    finally:
        await db.dispose()


def _phase(mode: str, processes: int, senders: int, seconds: float) -> dict[str, Any]:
    admin = os.environ["DARBUKA_BENCH_DATABASE_URL"]
    name = f"darbuka_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0] + "/" + name
    try:
        asyncio.run(_prepare(url, processes))
        results: Any = multiprocessing.get_context("spawn").Queue()
        procs = [multiprocessing.get_context("spawn").Process(
            target=_run_process, args=(url, i, mode, senders, seconds, results))
            for i in range(processes)]
        for proc in procs:
            proc.start()
        found = [results.get(timeout=seconds + 120) for _ in procs]
        for proc in procs:
            proc.join()
        count, head = asyncio.run(_complete(url))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    sent = sum(r["sent"] for r in found)
    reserves = sum(r["reserves"] for r in found)
    return {"mode": mode, "processes": processes, "sends_per_s": round(sent / seconds),
            "batch": round(sent / max(1, sum(r["batches"] for r in found)), 1),
            "reserve_wait_ms": round(1000 * sum(r["reserve_s"] for r in found)
                                     / max(1, reserves), 2),
            "events": count,
            # The row's scheme does not move the sequence: its head is not this one.
            "head_complete": head >= count if mode == "sequence" else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    if not os.environ.get("DARBUKA_BENCH_DATABASE_URL"):
        print("writers: set DARBUKA_BENCH_DATABASE_URL (PostgreSQL) to run")
        return
    print(f"load: {os.getloadavg()}")
    for processes in (int(n) for n in args.processes.split(",")):
        for mode in ("row", "sequence"):
            print(orjson.dumps(_phase(mode, processes, args.senders, args.seconds)).decode(),
                  flush=True)


if __name__ == "__main__":
    main()
