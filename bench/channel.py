"""The channel benchmark: a post to 20,000 subscribers, 1,000 of them online over WebSocket.

Target: every online subscriber has the post within 1 s (p99), and the database gains no
row per subscriber (channels are fan-out on read). The population is made straight in the
database (setup is not what we measure); the measured server runs as its own process with
the shipped defaults (SQLite, FULL sync). Prints one JSON object.

    .venv/bin/python bench/channel.py [--subscribers 20000] [--online 1000] [--posts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clients import BenchClient, Tally
from darbuka.container import build_runtime, open_storage
from darbuka.services.auth import TOKEN_PREFIX, hash_token
from darbuka.settings import Settings
from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess


async def populate(data_dir: Path, subscribers: int,
                   online: int) -> tuple[int, list[tuple[str, int]]]:
    """A channel of `subscribers`; returns (channel id, [(token, user id)] of owner + online)."""
    runtime = build_runtime(Settings(data_dir=data_dir, sqlite_synchronous="NORMAL"))
    await open_storage(runtime)
    stores, now = runtime.stores, int(time.time() * 1000)
    tokens: list[tuple[str, int]] = []
    async with runtime.db.write() as conn:
        ids = [await stores.users.create(conn, phone=f"+4479{i:08d}", now=now,
                                         display_name=f"Sub {i}")
               for i in range(subscribers + 1)]
        for user_id in ids[:online + 1]:
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            await stores.devices.create(conn, user_id=user_id, name="bench",
                                        token_hash=hash_token(token), now=now)
            tokens.append((token, user_id))
        chat_id = await stores.chats.create(conn, kind="channel", title="Bench channel",
                                            owner_id=ids[0], now=now, is_public=True)
        (pos,) = await stores.events.reserve(conn, 1)
        roles = {ids[0]: "owner"} | dict.fromkeys(ids[1:], "subscriber")
        await stores.chats.add_members(conn, chat_id, roles, now=now, pos=pos, read_seq=0)
    await runtime.db.dispose()
    return chat_id, tokens


def row_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608 - names from sqlite_master
                for t in tables}


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else -1.0


async def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    chat_id, tokens = await populate(work, args.subscribers, args.online)
    setup_s = time.perf_counter() - t0
    server = ServerProcess(work, **LIFTED_WRITE_LIMITS)
    try:
        tally = Tally()
        clients = [BenchClient(server.ws_url, token, uid, tally) for token, uid in tokens]
        gate = asyncio.Semaphore(100)

        async def connect(client: BenchClient) -> None:
            async with gate:
                await client.connect(listen=True)

        await asyncio.gather(*(connect(c) for c in clients))
        owner, online = clients[0], clients[1:]
        await owner.send(chat_id)  # warm-up post
        await _until(lambda: tally.delivered >= len(online), 10)
        tally.reset()
        before = row_counts(work / "darbuka.db")
        for _ in range(args.posts):
            await owner.send(chat_id)
            # One post at a time: each post's fan-out is measured on its own.
            expected = tally.delivered + len(online)
            await _until(lambda e=expected: tally.delivered >= e, 10)
            await asyncio.sleep(args.gap)
        after = row_counts(work / "darbuka.db")
        grown = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
        result = {
            "subscribers": args.subscribers, "online": len(online), "posts": args.posts,
            "deliveries": tally.delivered, "expected": args.posts * len(online),
            "latency_ms": {"p50": round(_pct(tally.latencies, 50) * 1000, 1),
                           "p99": round(_pct(tally.latencies, 99) * 1000, 1),
                           "max": round(max(tally.latencies, default=-1) * 1000, 1)},
            "rows_written": grown,
            "rows_per_post": round(sum(grown.values()) / args.posts, 2),
            "server_rss_mb": round(server.rss_bytes() / 2**20, 1),
            "setup_seconds": round(setup_s, 1), "errors": tally.errors[:5],
            "cpus": os.cpu_count(),
        }
        await asyncio.gather(*(c.close() for c in clients))
        return result
    finally:
        server.stop()


async def _until(done: Any, seconds: float) -> None:
    """Wait until `done()` or the time is up (the figures then show what is missing)."""
    for _ in range(int(seconds / 0.005)):
        if done():
            return
        await asyncio.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--online", type=int, default=1_000)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between posts")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="darbuka-channel-") as tmp:
        result = asyncio.run(measure(args, Path(tmp)))
    print(json.dumps(result, indent=2))
    ok = (result["deliveries"] == result["expected"] and result["latency_ms"]["p99"] <= 1000
          and result["rows_per_post"] < 10)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
