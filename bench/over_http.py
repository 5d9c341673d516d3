"""The HTTP phases: what the Bot API, the SDK and every client without a socket get.

  http_single  one sender, one send at a time into a direct chat, on an idle server: the
               time per send (and per `GET /me`, per `/health`, for scale).
  http_group   16 senders, each sending one at a time into one shared group, and one member
               long-polling `/sync`: deliveries per second and send → deliver p99.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from bench.population import Population
from bench.wire import HttpConnection
from darbuka.testing import ServerProcess

__all__ = ["http_group", "http_single"]


def pct(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(values, 50) * 1000, 2), "p99_ms": round(pct(values, 99) * 1000, 2)}


async def _connection(server: ServerProcess, token: str) -> HttpConnection:
    conn = HttpConnection("127.0.0.1", server.port, token)
    await conn.open()
    return conn


async def _send(conn: HttpConnection, chat_id: int, text: str) -> None:
    status, answer = await conn.call("POST", f"/api/v1/chats/{chat_id}/messages",
                                     {"client_id": str(uuid.uuid4()), "text": text})
    if status != 201:
        raise RuntimeError(f"send answered {status}: {answer}")


async def _timed(count: int, call: Any) -> list[float]:
    times = []
    for n in range(count):
        started = time.perf_counter()
        await call(n)
        times.append(time.perf_counter() - started)
    return times


async def http_single(server: ServerProcess, pop: Population, *, sends: int) -> dict[str, Any]:
    """Members 0 and 1 of the first chat; `sends` sends after a warm-up of 50."""
    chat_id, members = next(iter(pop.chats.items()))
    conn = await _connection(server, pop.tokens[members[0]])
    try:
        async def send(n: int) -> None:
            await _send(conn, chat_id, f"single {n:013d}")

        async def me(_n: int) -> None:
            await conn.call("GET", "/api/v1/me")

        async def health(_n: int) -> None:
            await conn.call("GET", "/api/v1/health")

        await _timed(50, send)
        cpu0 = server.cpu_seconds()
        send_times = await _timed(sends, send)
        cpu = server.cpu_seconds() - cpu0
        return {"sends": sends, "send": _ms(send_times),
                "server_cpu_ms_per_send": round(cpu * 1000 / sends, 2),
                "me": _ms(await _timed(200, me)), "health": _ms(await _timed(200, health))}
    finally:
        await conn.close()


class _Receiver:
    """One member long-polling `/sync`, noting when each message reaches it."""

    def __init__(self, conn: HttpConnection, sent_at: dict[str, float]) -> None:
        self.conn, self.sent_at = conn, sent_at
        self.latencies: list[float] = []
        self.polls = 0
        self.running = True

    async def run(self) -> None:
        status, page = await self.conn.call("GET", "/api/v1/sync")
        cursor = page["cursor"]
        while self.running:
            status, page = await self.conn.call("GET", f"/api/v1/sync?cursor={cursor}&timeout=5")
            if status != 200:
                raise RuntimeError(f"sync answered {status}: {page}")
            now = time.perf_counter()
            self.polls += 1
            cursor = page["cursor"]
            for event in page["events"]:
                if event["type"] == "message.new":
                    sent = self.sent_at.pop(event["message"]["text"], None)
                    if sent is not None:
                        self.latencies.append(now - sent)


async def http_group(server: ServerProcess, pop: Population, *,
                     seconds: float) -> dict[str, Any]:
    """The group's first member receives; the other 16 send, one send at a time each."""
    chat_id, members = next(iter(pop.chats.items()))
    receiver_conn = await _connection(server, pop.tokens[members[0]])
    senders = [await _connection(server, pop.tokens[i]) for i in members[1:]]
    sent_at: dict[str, float] = {}
    receiver = _Receiver(receiver_conn, sent_at)
    polling = asyncio.get_running_loop().create_task(receiver.run())
    running = True
    sent = 0

    async def sender(index: int, conn: HttpConnection) -> None:
        nonlocal sent
        n = 0
        while running:
            text = f"group {index:02d} {n:010d}"
            sent_at[text] = time.perf_counter()
            await _send(conn, chat_id, text)
            sent += 1
            n += 1

    try:
        await asyncio.sleep(0.5)  # the receiver is waiting
        cpu0, t0 = server.cpu_seconds(), time.perf_counter()
        tasks = [asyncio.get_running_loop().create_task(sender(i, c))
                 for i, c in enumerate(senders)]
        await asyncio.sleep(seconds)
        running = False
        await asyncio.gather(*tasks)
        elapsed, cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu0
        for _ in range(100):  # the last deliveries
            if not sent_at:
                break
            await asyncio.sleep(0.05)
        receiver.running = False
        delivered = len(receiver.latencies)
        return {"senders": len(senders), "seconds": round(elapsed, 2), "sent": sent,
                "sent_per_s": round(sent / elapsed), "delivered": delivered,
                "delivered_per_s": round(delivered / elapsed), "undelivered": len(sent_at),
                "polls": receiver.polls, **_ms(receiver.latencies),
                "server_cpu_ms_per_send": round(cpu * 1000 / max(sent, 1), 2)}
    finally:
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)
        for conn in (receiver_conn, *senders):
            await conn.close()
