"""Message search at size: 1,000,000 messages in 1,000 chats, one person in 50 of them;
query latency through `SearchService.search` (index, span filter, rows, highlight ranges)
and the size of the index against the text it indexes. SQLite, written straight through
the stores in big transactions (no HTTP: this measures the search, not the sends).

    .venv/bin/python bench/search.py [--messages 1000000] [--chats 1000] [--queries 300]

Targets (issue 16): p95 <= 50 ms per query; index <= 1.5x the text's size.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from darbuka.services.search import SearchService
from darbuka.services.sending import new_message
from darbuka.storage import Database, Stores
from darbuka.storage.migrate import migrate

_LATIN = "abcdefghijklmnopqrstuvwxyz"
_ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
_MARKS = "\u064e\u064f\u0650\u0651\u0652"
_CHUNK = 10_000


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """Made-up words, a third of them Arabic (some with tashkeel), the rest Latin."""
    words = []
    for n in range(size):
        length = rng.randint(3, 9)
        if n % 3 == 0:
            word = "".join(rng.choice(_ARABIC) + (rng.choice(_MARKS) if rng.random() < 0.3
                                                  else "") for _ in range(length))
        else:
            word = "".join(rng.choice(_LATIN) for _ in range(length))
        words.append(word)
    return words


def sentence(rng: random.Random, words: list[str], weights: list[float]) -> str:
    return " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(4, 16)))


async def fill(db: Database, stores: Stores, *, messages: int, chats: int,
               person_in: int, rng: random.Random,
               words: list[str], weights: list[float]) -> int:
    """Chats, the person's memberships and the messages with their index; the person's id."""
    async with db.write() as conn:
        person = await stores.users.create(conn, phone="+447700900001", now=0)
        chat_ids = [await stores.chats.create(conn, kind="group", title=f"chat {n}",
                                              owner_id=None, now=0) for n in range(chats)]
        for chat_id in rng.sample(chat_ids, person_in):
            await stores.chats.add_members(conn, chat_id, {person: "member"}, now=0, pos=1,
                                           read_seq=0)
    seqs = dict.fromkeys(chat_ids, 0)
    pos = 1
    for start in range(0, messages, _CHUNK):
        rows = []
        # Each batch in a few hundred chats: `insert_many` reads its ids back per chat.
        some = rng.sample(chat_ids, min(len(chat_ids), 200))
        for _ in range(min(_CHUNK, messages - start)):
            chat_id = rng.choice(some)
            seqs[chat_id] += 1
            rows.append({**new_message(chat_id, seqs[chat_id], 0, sender_id=person),
                         "text": sentence(rng, words, weights)})
        async with db.write() as conn:
            ids = await stores.messages.insert_many(conn, rows)  # type: ignore[arg-type]
            entries = []
            for row, message_id in zip(rows, ids, strict=True):
                pos += 1
                entries.append({"message_id": message_id, "chat_id": row["chat_id"],
                                "pos": pos, "text": row["text"]})
            await stores.search.add(conn, entries)  # type: ignore[arg-type]
        print(f"  {start + len(rows):,} messages", end="\r", flush=True)
    print()
    return person


async def sizes(db: Database) -> tuple[int, int, int]:
    """Bytes of text, of the FTS5 index, and of the side table (dbstat pages)."""
    async with db.read() as conn:
        text_bytes = (await conn.execute(text(
            "SELECT sum(length(CAST(text AS BLOB))) FROM messages"))).scalar_one()
        fts = (await conn.execute(text(
            "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'message_fts%'"))).scalar_one()
        side = (await conn.execute(text(
            "SELECT sum(pgsize) FROM dbstat WHERE name = 'message_search'"))).scalar_one()
    return int(text_bytes), int(fts), int(side)


def queries(rng: random.Random, words: list[str], count: int) -> list[str]:
    """One word of every frequency (common to rare), a prefix, and two-word queries."""
    out = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            out.append(rng.choice(words[:50]))
        elif kind == 1:
            out.append(rng.choice(words))
        elif kind == 2:
            out.append(rng.choice(words)[:3])
        else:
            out.append(f"{rng.choice(words[:500])} {rng.choice(words[:500])}")
    return out


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(16)
    words = vocabulary(rng, 30_000)
    # Zipf, as words in text are (cumulative: drawn by bisection, not summed per draw).
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/search.db", sqlite_synchronous="NORMAL")
        stores = Stores()
        await migrate(db, then=stores.events.ensure_stream)
        started = time.perf_counter()
        person = await fill(db, stores, messages=args.messages, chats=args.chats,
                            person_in=args.person_in, rng=rng, words=words, weights=weights)
        print(f"  filled in {time.perf_counter() - started:.0f} s")
        text_bytes, fts, side = await sizes(db)
        service = SearchService(db, stores)
        samples, hits = [], 0
        for q in queries(rng, words, args.queries):
            begun = time.perf_counter()
            result = await service.search(person, q, limit=20)
            samples.append(time.perf_counter() - begun)
            hits += len(result["messages"])
        await db.dispose()
    print(f"search, {args.messages:,} messages in {args.chats:,} chats, a person in "
          f"{args.person_in}; {os.cpu_count()} cores, {platform.processor() or platform.machine()}")
    print(f"  query (20 hits a page, {hits / len(samples):.1f} on average): "
          f"p50 {pct(samples, 50):.1f} ms, p95 {pct(samples, 95):.1f} ms, "
          f"p99 {pct(samples, 99):.1f} ms, max {max(samples) * 1000:.1f} ms (target p95 <= 50)")
    print(f"  text {text_bytes / 1e6:.1f} MB; FTS5 index {fts / 1e6:.1f} MB "
          f"({fts / text_bytes:.2f}x, target <= 1.5x); with the chat/position table "
          f"{(fts + side) / 1e6:.1f} MB ({(fts + side) / text_bytes:.2f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=1_000)
    parser.add_argument("--person-in", type=int, default=50)
    parser.add_argument("--queries", type=int, default=300)
    asyncio.run(main(parser.parse_args()))
