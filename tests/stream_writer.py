"""A stream writer process for the several-writers tests: it takes positions and commits
(or rolls back) as told, one line at a time on stdin, and answers each line on stdout.

Run as `python -m tests.stream_writer DATABASE_URL`. Commands:
- `hold N`: begin a transaction, take N positions, store an event at each, answer them and
  wait (holding them) for the next line: `commit` or `rollback` ends it;
- `burst K SEED`: K transactions of one to three events each, some held a little before
  COMMIT, about one in eight rolled back; answers the positions committed;
- `quit`.
Answers are JSON lines: {"positions": [...]} or {"committed": [...]}.
"""

from __future__ import annotations

import asyncio
import random
import sys
from typing import Any

import orjson

from darbuka.storage import Database, Stores
from darbuka.storage.db import Conn


def _row(pos: int) -> dict[str, Any]:
    return {"pos": pos, "chat_id": None, "user_id": 1, "type": "test.event",
            "payload": orjson.dumps({"type": "test.event", "pos": pos}), "created_at": 0,
            "routing": None}


class _RolledBack(Exception):
    pass


async def _take(stores: Stores, conn: Conn, count: int) -> list[int]:
    positions = await stores.events.reserve(conn, count)
    await stores.events.append(conn, [_row(pos) for pos in positions])
    return positions


async def _hold(db: Database, stores: Stores, count: int, lines: asyncio.Queue[str]) -> None:
    try:
        async with db.write() as conn:
            positions = await _take(stores, conn, count)
            _answer({"positions": positions})
            if (await lines.get()).strip() != "commit":
                raise _RolledBack
    except _RolledBack:
        pass
    _answer({"done": True})


async def _burst(db: Database, stores: Stores, count: int, seed: int) -> None:
    chance = random.Random(seed)
    committed: list[int] = []
    for _ in range(count):
        try:
            async with db.write() as conn:
                positions = await _take(stores, conn, chance.randint(1, 3))
                if chance.random() < 0.3:
                    await asyncio.sleep(chance.random() * 0.05)  # a slow COMMIT
                if chance.random() < 0.125:
                    raise _RolledBack
            committed.extend(positions)
        except _RolledBack:
            pass
    _answer({"committed": committed})


def _answer(body: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(body).decode() + "\n")
    sys.stdout.flush()


async def main(url: str) -> None:
    db = Database(url)
    stores = Stores()
    lines: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read_lines() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, "quit")

    loop.run_in_executor(None, read_lines)
    _answer({"ready": True})
    try:
        while True:
            words = (await lines.get()).split()
            if not words or words[0] == "quit":
                return
            if words[0] == "hold":
                await _hold(db, stores, int(words[1]), lines)
            elif words[0] == "burst":
                await _burst(db, stores, int(words[1]), int(words[2]))
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
