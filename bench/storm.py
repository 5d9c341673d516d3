"""The reconnect storm: a server restarts and every signed-in socket comes back at once.

Each client already holds a token and a cursor (it was connected before the restart), so
it sends `auth` with its cursor and waits for `ready`. What counts is the time until all
are ready and the server's CPU per connection.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from bench.population import Population
from darbuka.testing import ServerProcess

__all__ = ["storm"]

# Connections opening at one moment; more only fill the listen backlog and wait for SYN
# retries, which measures the kernel, not the server.
IN_FLIGHT = 1000


async def _sign_in(url: str, token: str, cursor: str | None) -> tuple[ClientConnection, str]:
    ws = await connect(url, compression=None, max_queue=None, ping_interval=None,
                       open_timeout=120)
    auth: dict[str, Any] = {"type": "auth", "token": token}
    if cursor is not None:
        auth["cursor"] = cursor
    await ws.send(orjson.dumps(auth).decode())
    while True:
        frame = orjson.loads(await ws.recv())
        if frame["type"] in ("ready", "reset"):
            return ws, frame.get("cursor", cursor)


async def _all(url: str, tokens: list[str],
               cursors: list[str | None]) -> list[tuple[ClientConnection, str]]:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(token: str, cursor: str | None) -> tuple[ClientConnection, str]:
        async with gate:
            return await _sign_in(url, token, cursor)

    return await asyncio.gather(*(one(t, c) for t, c in zip(tokens, cursors, strict=True)))


async def storm(start: Any, pop: Population) -> dict[str, Any]:
    """`start()` makes a server process on the population's database."""
    server: ServerProcess = start()
    try:
        first = await _all(server.ws_url, pop.tokens, [None] * len(pop.tokens))
        cursors: list[str | None] = [cursor for _ws, cursor in first]
        await asyncio.gather(*(ws.close() for ws, _ in first))
    finally:
        server.stop()
    server = start()
    try:
        cpu0, t0 = server.cpu_seconds(), time.perf_counter()
        again = await _all(server.ws_url, pop.tokens, cursors)
        elapsed, cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu0
        await asyncio.gather(*(ws.close() for ws, _ in again))
        return {"sockets": len(again), "all_ready_s": round(elapsed, 2),
                "server_cpu_ms_per_connection": round(cpu * 1000 / len(again), 3)}
    finally:
        server.stop()
