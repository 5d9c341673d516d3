"""Two `darbuka serve` processes on one PostgreSQL and one Redis (issue 14's targets): the
throughput phase with one process and with two, and the latency phase across the two.

Clients alternate between the processes, so in every chat of five some members are on the
other process: a message sent on one reaches them through the bus. The processes share the
data folder (the secret the database's fingerprint is checked against) and a Redis key
prefix of this run's own.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from bench.clients import BenchClient, Tally
from bench.population import Population
from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess

__all__ = ["Processes", "connect_spread", "start_processes"]


class Processes:
    """Several server processes seen as one for the phases: CPU and memory summed."""

    def __init__(self, servers: list[ServerProcess]) -> None:
        self.servers = servers

    def cpu_seconds(self) -> float:
        return sum(s.cpu_seconds() for s in self.servers)

    def rss_bytes(self) -> int:
        return sum(s.rss_bytes() for s in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_processes(work: Path, database_url: str, count: int) -> Processes:
    redis = os.environ.get("DARBUKA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"darbuka-bench-{uuid.uuid4().hex[:8]}"
    servers: list[ServerProcess] = []
    try:
        for _ in range(count):
            servers.append(ServerProcess(work, database_url=database_url, redis_url=redis,
                                         redis_prefix=prefix, **LIFTED_WRITE_LIMITS))
    except BaseException:
        Processes(servers).stop()
        raise
    return Processes(servers)


async def connect_spread(group: Processes, pop: Population, tally: Tally, *,
                         parallel: int = 100) -> list[BenchClient]:
    """Client i on process i mod n, listening."""
    servers = group.servers
    clients = [BenchClient(servers[i % len(servers)].ws_url, token, uid, tally)
               for i, (token, uid) in enumerate(zip(pop.tokens, pop.user_ids, strict=True))]
    gate = asyncio.Semaphore(parallel)

    async def one(client: BenchClient) -> None:
        async with gate:
            await client.connect(listen=True)

    await asyncio.gather(*(one(c) for c in clients))
    return clients


def summary(found: dict[str, Any]) -> dict[str, Any]:
    """The figures the targets read."""
    one, two = found["one_process"]["throughput"], found["two_processes"]["throughput"]
    return {"sent_per_s_one_process": one["sent_per_s"],
            "sent_per_s_two_processes": two["sent_per_s"],
            "across_processes_p99_ms": found["two_processes"]["latency"]["p99_ms"]}
