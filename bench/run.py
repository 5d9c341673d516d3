"""`make bench`: a real server process and a load generator on loopback.

Phases (each on its own fresh server, SQLite, shipped durability settings):
  throughput  50 senders in group chats, each send acked only after commit, as fast as the
              server takes them; every member's socket counts the deliveries.
  latency     the same clients offering a steady 1,000 messages/s: send→deliver p50/p99.
  idle        10,000 signed-in sockets doing nothing: server memory per connection.
  http        one sender over HTTP, one send at a time; then 16 HTTP senders into one group
              and one member long-polling `/sync` (bench/over_http.py).
  storm       10,000 signed-in sockets reconnecting at once after a restart (bench/storm.py).
  cluster     PostgreSQL only, with Redis: throughput on one process and on two, and the
              latency phase across two (bench/cluster.py).
Every phase runs on SQLite, and again on PostgreSQL when DARBUKA_BENCH_DATABASE_URL is set
(bench/databases.py).
The wire size is the frame each recipient gets for a 20-character text message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clients import BenchClient, Tally
from bench.cluster import Processes, connect_spread, start_processes, summary
from bench.databases import engines, fresh_database
from bench.over_http import http_group, http_single
from bench.population import Population, populate
from bench.storm import storm
from bench.wire import HttpConnection
from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess


def _raise_file_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


async def _connect_all(server: ServerProcess, pop: Population, tally: Tally, *,
                       listen: bool, parallel: int = 100) -> list[BenchClient]:
    clients = [BenchClient(server.ws_url, token, uid, tally)
               for token, uid in zip(pop.tokens, pop.user_ids, strict=True)]
    gate = asyncio.Semaphore(parallel)

    async def one(client: BenchClient) -> None:
        async with gate:
            await client.connect(listen=listen)

    await asyncio.gather(*(one(c) for c in clients))
    return clients


def _senders(pop: Population, clients: list[BenchClient]) -> list[tuple[BenchClient, int]]:
    return [(clients[i], chat_id) for chat_id, members in pop.chats.items() for i in members]


async def _poll(done: Callable[[], bool], seconds: float = 30) -> None:
    """Wait until `done()` or the time is up (the figures then show what is missing)."""
    for _ in range(int(seconds / 0.05)):
        if done():
            return
        await asyncio.sleep(0.05)


async def _drain(tally: Tally, expected: int) -> None:
    await _poll(lambda: tally.delivered >= expected)


async def throughput(server: ServerProcess | Processes, pop: Population, clients: list[BenchClient],
                     tally: Tally, *, seconds: float, window: int) -> dict[str, Any]:
    """Every sender keeps `window` sends in flight and sends again on each ack."""
    senders = _senders(pop, clients)
    running = True

    for client, chat_id in senders:
        def refill(client: BenchClient = client, chat_id: int = chat_id) -> None:
            if running:
                asyncio.get_running_loop().create_task(client.send(chat_id))
        client.on_ack = refill

    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    for client, chat_id in senders:
        for _ in range(window):
            await client.send(chat_id)
    await asyncio.sleep(seconds)
    running = False
    acked, delivered, elapsed = tally.acked, tally.delivered, time.perf_counter() - t0
    cpu = server.cpu_seconds() - cpu0
    await _poll(lambda: not any(c.in_flight for c, _ in senders))
    fanout = len(next(iter(pop.chats.values()))) - 1
    await _drain(tally, tally.acked * fanout)
    for client, _ in senders:
        client.on_ack = None
    return {
        "senders": len(senders), "chats": len(pop.chats), "recipients_per_message": fanout,
        "window": window, "seconds": round(elapsed, 2),
        "sent": acked, "delivered": delivered,
        "sent_per_s": round(acked / elapsed), "delivered_per_s": round(delivered / elapsed),
        "all_delivered_after_drain": tally.delivered == tally.acked * fanout,
        "p50_ms": round(_pct(tally.latencies, 50) * 1000, 1),
        "p99_ms": round(_pct(tally.latencies, 99) * 1000, 1),
        "server_cpu_s_per_1000_msgs": round(cpu / max(acked, 1) * 1000, 3),
        "errors": len(tally.errors),
    }


async def latency(pop: Population, clients: list[BenchClient], tally: Tally, *,
                  rate: float, seconds: float) -> dict[str, Any]:
    """Open loop: sends go out on a fixed schedule whatever the answers do."""
    senders = _senders(pop, clients)
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client, chat_id = senders[i % len(senders)]
        await client.send(chat_id)
    offered_elapsed = time.perf_counter() - start
    fanout = len(next(iter(pop.chats.values()))) - 1
    await _drain(tally, total * fanout)
    return {
        "offered_per_s": rate, "achieved_send_rate": round(total / offered_elapsed),
        "sent": total, "acked": tally.acked, "delivered": tally.delivered,
        "p50_ms": round(_pct(tally.latencies, 50) * 1000, 2),
        "p99_ms": round(_pct(tally.latencies, 99) * 1000, 2),
        "max_ms": round(max(tally.latencies, default=float("nan")) * 1000, 2),
        "errors": len(tally.errors),
    }


def wire_size(tally: Tally) -> dict[str, Any]:
    payload = statistics.median(tally.wire_sizes)
    header = 2 if payload < 126 else 4  # server frames are not masked
    return {"text_chars": 20, "frame_payload_bytes": int(payload),
            "bytes_on_wire_per_recipient": int(payload) + header}


def _server(work: Path, database_url: str) -> ServerProcess:
    return ServerProcess(work, **{"database_url": database_url, **LIFTED_WRITE_LIMITS})


async def busy_phases(args: argparse.Namespace, work: Path, db: str) -> dict[str, Any]:
    pop = await populate(work, users=args.senders, chat_size=args.chat_size, database_url=db)
    server = _server(work, db)
    try:
        tally = Tally()
        clients = await _connect_all(server, pop, tally, listen=True)
        # Warm up (imports, caches, first statements), then measure.
        await latency(pop, clients, tally, rate=500, seconds=1)
        tally.reset()
        result: dict[str, Any] = {}
        result["throughput"] = await throughput(server, pop, clients, tally,
                                                seconds=args.seconds, window=args.window)
        tally.reset()
        result["latency"] = await latency(pop, clients, tally, rate=args.rate,
                                          seconds=args.seconds)
        result["wire"] = wire_size(tally)
        result["server_rss_mb"] = round(server.rss_bytes() / 2**20, 1)
        await asyncio.gather(*(c.close() for c in clients))
        return result
    finally:
        server.stop()


async def idle_phase(args: argparse.Namespace, work: Path, db: str) -> dict[str, Any]:
    pop = await populate(work, users=args.idle, chat_size=100, database_url=db)
    server = _server(work, db)
    try:
        # Warm the server's paths with a few connections before the baseline.
        tally = Tally()
        warm = Population(pop.tokens[:20], pop.user_ids[:20])
        warm_clients = await _connect_all(server, warm, tally, listen=False)
        await asyncio.gather(*(c.close() for c in warm_clients))
        await asyncio.sleep(1)
        before, cpu0 = server.rss_bytes(), server.cpu_seconds()
        t0 = time.perf_counter()
        clients = await _connect_all(server, pop, tally, listen=False)
        connect_s = time.perf_counter() - t0
        cpu_ms = (server.cpu_seconds() - cpu0) * 1000 / len(clients)
        await asyncio.sleep(2)
        after = server.rss_bytes()
        await asyncio.gather(*(c.close() for c in clients))
        return {"connections": len(clients), "connect_seconds": round(connect_s, 1),
                "server_cpu_ms_per_connect": round(cpu_ms, 2),
                "rss_before_mb": round(before / 2**20, 1), "rss_after_mb": round(after / 2**20, 1),
                "bytes_per_connection": (after - before) // len(clients)}
    finally:
        server.stop()


async def http_phases(args: argparse.Namespace, work: Path, db: str) -> dict[str, Any]:
    # Users 0 and 1 share the first two-member chat (the single sender); users 2 to 18 get a
    # group of 17 (16 senders and the receiver), made over HTTP as a client would.
    pop = await populate(work, users=2 + 17, chat_size=2, database_url=db)
    first = next(iter(pop.chats))
    single = Population(pop.tokens, pop.user_ids, {first: pop.chats[first]})
    server = _server(work, db)
    try:
        members = list(range(2, 19))
        group = Population(pop.tokens, pop.user_ids,
                           {await _group_of(server, pop, members): members})
        return {"http_single": await http_single(server, single, sends=args.http_sends),
                "http_group": await http_group(server, group, seconds=args.seconds)}
    finally:
        server.stop()


async def _group_of(server: ServerProcess, pop: Population, members: list[int]) -> int:
    """A group of the given members, made over HTTP by the first."""
    conn = HttpConnection("127.0.0.1", server.port, pop.tokens[members[0]])
    await conn.open()
    try:
        status, chat = await conn.call("POST", "/api/v1/chats", {
            "kind": "group", "title": "HTTP bench",
            "member_ids": [pop.user_ids[i] for i in members[1:]]})
        if status != 201:
            raise RuntimeError(f"create answered {status}: {chat}")
        return int(chat["id"])
    finally:
        await conn.close()


async def storm_phase(args: argparse.Namespace, work: Path, db: str) -> dict[str, Any]:
    pop = await populate(work, users=args.storm, chat_size=100, database_url=db)
    return await storm(lambda: _server(work, db), pop)


async def cluster_phase(args: argparse.Namespace, work: Path, db: str) -> dict[str, Any]:
    if not db:
        return {"skipped": "several processes need PostgreSQL"}
    pop = await populate(work, users=args.senders, chat_size=args.chat_size, database_url=db)
    found: dict[str, Any] = {}
    for count, name in ((1, "one_process"), (2, "two_processes")):
        group = start_processes(work, db, count)
        try:
            tally = Tally()
            clients = await connect_spread(group, pop, tally)
            await latency(pop, clients, tally, rate=500, seconds=1)  # warm up
            tally.reset()
            found[name] = {"throughput": await throughput(
                group, pop, clients, tally, seconds=args.seconds, window=args.window)}
            tally.reset()
            found[name]["latency"] = await latency(pop, clients, tally, rate=args.rate,
                                                   seconds=args.seconds)
            await asyncio.gather(*(c.close() for c in clients))
        finally:
            group.stop()
    return {**found, "summary": summary(found)}


PHASES = {"busy": busy_phases, "idle": idle_phase, "http": http_phases, "storm": storm_phase,
          "cluster": cluster_phase}


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "system": platform.platform()}


def check_targets(results: dict[str, Any]) -> list[str]:
    notes = []
    if "throughput" in results:
        notes.append(_target("throughput ≥ 10,000 msg/s", results["throughput"]["sent_per_s"]
                             >= 10_000))
        notes.append(_target("≤ 90 µs server CPU per message",
                             results["throughput"]["server_cpu_s_per_1000_msgs"] <= 0.090))
    if "latency" in results:
        notes.append(_target("p99 ≤ 50 ms at 1,000 msg/s", results["latency"]["p99_ms"] <= 50))
        notes.append(_target("≤ 200 bytes per recipient",
                             results["wire"]["bytes_on_wire_per_recipient"] <= 200))
    if "idle" in results:
        notes.append(_target("≤ 20 KB per idle socket",
                             results["idle"]["bytes_per_connection"] <= 20 * 1024))
    if "http_single" in results:
        notes.append(_target("HTTP send p50 ≤ 2 ms",
                             results["http_single"]["send"]["p50_ms"] <= 2))
    if "http_group" in results:
        group = results["http_group"]
        notes.append(_target("HTTP group ≥ 2,000 delivered/s", group["delivered_per_s"] >= 2000))
        notes.append(_target("HTTP group p99 ≤ 50 ms", group["p99_ms"] <= 50))
    if "summary" in results.get("cluster", {}):
        cluster = results["cluster"]["summary"]
        notes.append(_target("two processes send more than one",
                             cluster["sent_per_s_two_processes"]
                             > cluster["sent_per_s_one_process"]))
        notes.append(_target("across processes p99 ≤ 50 ms at 1,000 msg/s",
                             cluster["across_processes_p99_ms"] <= 50))
    if "storm" in results:
        notes.append(_target("≤ 1 ms server CPU per reconnect",
                             results["storm"]["server_cpu_ms_per_connection"] <= 1))
    return notes


def _target(name: str, met: bool) -> str:
    return f"{'met ' if met else 'MISSED'}  {name}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--chat-size", type=int, default=5, help="members per group chat")
    parser.add_argument("--window", type=int, default=8, help="sends in flight per sender")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1000, help="latency phase msg/s")
    parser.add_argument("--idle", type=int, default=10_000, help="idle sockets")
    parser.add_argument("--storm", type=int, default=10_000, help="reconnecting sockets")
    parser.add_argument("--http-sends", type=int, default=1000, help="single HTTP sends")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated, of {', '.join(PHASES)}")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p]
    if unknown := set(phases) - set(PHASES):
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    limit = _raise_file_limit()
    if max(args.idle, args.storm) + 1000 > limit:  # each side holds one end of every socket
        parser.error(f"{max(args.idle, args.storm)} sockets need more open files than {limit}")
    results: dict[str, Any] = {"machine": machine()}
    for engine in engines():
        found: dict[str, Any] = {}
        for phase in phases:
            with tempfile.TemporaryDirectory(prefix=f"darbuka-bench-{phase}-") as tmp:
                async with fresh_database(engine) as db:
                    found_now = await PHASES[phase](args, Path(tmp), db)
            found |= found_now if phase in ("busy", "http") else {phase: found_now}
        results[engine] = found
        print(f"== {engine}")
        print(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())
        for note in check_targets(found):
            print(note)
    sqlite, postgres = results.get("sqlite", {}), results.get("postgresql", {})
    if "throughput" in sqlite and "throughput" in postgres:
        ratio = postgres["throughput"]["sent_per_s"] / max(sqlite["throughput"]["sent_per_s"], 1)
        print(_target(f"PostgreSQL throughput within 30% of SQLite's ({ratio:.0%})",
                      ratio >= 0.7))
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    asyncio.run(main())
