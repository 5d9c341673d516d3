"""Readiness: may this process take traffic? `/api/v1/ready` asks, a load balancer listens.

Liveness (`/health`) only says the process answers; readiness checks what a request needs:
the database answers a read, the writer commits a transaction (its loop is alive and the
database takes writes), Redis answers a PING when one is configured, and the bus is not
stuck waiting on a missing position for longer than `ready_max_bus_lag_s`. Each check has
its own deadline, so one hung dependency is named instead of hanging the probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis

from darbuka.bus import Bus
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores

__all__ = ["HealthService", "Readiness"]

# A check that takes longer than this has failed (a probe should answer in a few seconds).
CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check["ok"]]


class HealthService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, bus: Bus, *,
                 redis_url: str, max_bus_lag_s: float) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._bus = bus
        self._max_bus_lag_s = max_bus_lag_s
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=CHECK_TIMEOUT_S,
                                           socket_connect_timeout=CHECK_TIMEOUT_S) \
            if redis_url else None

    async def check(self) -> Readiness:
        checks: list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = [
            ("database", self._database), ("writer", self._write)]
        if self._redis is not None:
            checks.append(("redis", self._ping))
        results = await asyncio.gather(*(_timed(fn) for _, fn in checks))
        found = {name: result for (name, _), result in zip(checks, results, strict=True)}
        lag_s = self._bus.lag_s
        found["bus"] = {"ok": lag_s <= self._max_bus_lag_s, "lag_s": round(lag_s, 3),
                        "reconnects": self._bus.reconnects, "gap_fills": self._bus.gap_fills}
        return Readiness(found)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    async def _database(self) -> dict[str, Any]:
        async with self._db.read() as conn:
            await self._stores.events.head(conn)
        return {}

    async def _write(self) -> dict[str, Any]:
        async def nothing(_tx: Tx) -> None:
            return None

        # Queued behind whatever the writer has: a long queue is a slow answer here.
        await self._writer.run(nothing)
        return {"queued": self._writer.queue_depth}

    async def _ping(self) -> dict[str, Any]:
        assert self._redis is not None  # noqa: S101 - only checked with Redis
        await self._redis.ping()
        return {}


async def _timed(check: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            found = await check()
    except TimeoutError:
        return {"ok": False, "error": f"no answer in {CHECK_TIMEOUT_S:g} s"}
    except Exception as exc:  # a failed check is the answer, not an error of the probe
        # The kind of failure only: messages can hold addresses and user names.
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **found}
