"""The polls benchmark: every member of a big group votes at once over HTTP, then every vote
is sent again with its client id (an outbox retrying after lost answers).

Targets: 1,000 voters' votes at 64 at a time take p99 ≤ 1 s each; every vote counts once
(the counts add up to the voters, the repeats change nothing). The group is made straight
in the database; the server runs as its own process with the shipped defaults (SQLite,
FULL sync). Votes share transactions with each other (`Writer.run_shared`). Prints one JSON
object.

    .venv/bin/python bench/polls.py [--voters 1000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from darbuka.container import build_runtime, open_storage
from darbuka.services.auth import TOKEN_PREFIX, hash_token
from darbuka.settings import Settings
from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess

OPTIONS = ["Mon", "Tue", "Wed", "Thu", "Fri"]


async def populate(data_dir: Path, voters: int) -> tuple[int, list[str]]:
    """One group of `voters` + 1 (its owner first); the chat id and everyone's token."""
    runtime = build_runtime(Settings(data_dir=data_dir, sqlite_synchronous="NORMAL"))
    await open_storage(runtime)
    stores, now = runtime.stores, int(time.time() * 1000)
    tokens, roles = [], {}
    async with runtime.db.write() as conn:
        for i in range(voters + 1):
            user = await stores.users.create(conn, phone=f"+4479{i:08d}", now=now,
                                             display_name=f"Voter {i}")
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            await stores.devices.create(conn, user_id=user, name="bench",
                                        token_hash=hash_token(token), now=now)
            tokens.append(token)
            roles[user] = "owner" if i == 0 else "member"
        owner = next(iter(roles))
        chat = await stores.chats.create(conn, kind="group", title="Big group",
                                         owner_id=owner, now=now)
        (pos,) = await stores.events.reserve(conn, 1)
        await stores.chats.add_members(conn, chat, roles, now=now, pos=pos, read_seq=0)
    await runtime.db.dispose()
    return chat, tokens


# Requests sent again after the link dropped (a loaded machine resets some connections).
transport_retries: list[int] = []


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else -1.0


async def _round(http: httpx.AsyncClient, path: str, ballots: list[tuple[str, str, int]],
                 concurrency: int, errors: list[str]) -> tuple[list[float], float]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    retries = transport_retries

    async def one(token: str, client_id: str, option: int) -> None:
        async with gate:
            started = time.perf_counter()
            for attempt in range(5):
                try:
                    response = await http.post(
                        path, headers={"authorization": f"Bearer {token}"},
                        json={"client_id": client_id, "options": [option]})
                    break
                except httpx.TransportError:  # sent again with its client id, as an outbox
                    retries.append(1)
                    if attempt == 4:
                        raise
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(one(*b) for b in ballots))
    return latencies, time.perf_counter() - started


async def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    chat, tokens = await populate(work, args.voters)
    server = ServerProcess(work, **LIFTED_WRITE_LIMITS)
    errors: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60,
                                     limits=httpx.Limits(max_connections=args.concurrency)
                                     ) as http:
            owner = {"authorization": f"Bearer {tokens[0]}"}
            poll = (await http.post(f"/chats/{chat}/messages", headers=owner, json={
                "client_id": str(uuid.uuid4()), "text": "Which day?",
                "poll": {"options": OPTIONS}})).json()
            path = f"/chats/{chat}/messages/{poll['id']}/votes"
            ballots = [(token, str(uuid.uuid4()), i % len(OPTIONS))
                       for i, token in enumerate(tokens[1:])]
            first, first_s = await _round(http, path, ballots, args.concurrency, errors)
            again, again_s = await _round(http, path, ballots, args.concurrency, errors)
            results = (await http.get(f"/chats/{chat}/messages/{poll['id']}/poll",
                                      headers=owner)).json()
    except httpx.HTTPError:
        print((work / "server.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()
    if errors:
        print((work / "server.log").read_text()[-3000:], file=sys.stderr)
    return {
        "voters": args.voters, "concurrency": args.concurrency,
        "votes_per_s": round(len(first) / first_s, 1),
        "latency_ms": {"p50": round(_pct(first, 50) * 1000, 1),
                       "p99": round(_pct(first, 99) * 1000, 1)},
        "repeats_per_s": round(len(again) / again_s, 1),
        "repeat_latency_ms": {"p50": round(_pct(again, 50) * 1000, 1),
                              "p99": round(_pct(again, 99) * 1000, 1)},
        "transport_retries": len(transport_retries),
        "counted": sum(results["counts"]), "voters_counted": results["voters"],
        "errors": errors[:5], "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="darbuka-polls-") as tmp:
        result = asyncio.run(measure(args, Path(tmp)))
    print(json.dumps(result, indent=2))
    ok = (not result["errors"] and result["counted"] == args.voters
          and result["voters_counted"] == args.voters and result["latency_ms"]["p99"] <= 1000)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
