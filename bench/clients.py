"""The load generator: WebSocket clients that sign in, send, and time every delivery.

All clients live in one process on one clock, so a delivery's latency is its arrival time
minus the time its sender put it on the wire (found by the text, which is unique).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

__all__ = ["BenchClient", "Tally"]


class Tally:
    """What every client reports into: sends, acks, deliveries and their latencies."""

    def __init__(self) -> None:
        self.sent_at: dict[str, float] = {}
        self.acked = 0
        self.delivered = 0
        self.latencies: list[float] = []
        self.wire_sizes: list[int] = []
        self.errors: list[str] = []
        self.measuring = True

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


class BenchClient:
    _texts = itertools.count()

    def __init__(self, url: str, token: str, user_id: int, tally: Tally) -> None:
        self.url = url
        self.token = token
        self.user_id = user_id
        self.tally = tally
        self.ws: ClientConnection | None = None
        self.in_flight = 0
        self.on_ack: Callable[[], None] | None = None
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def connect(self, *, listen: bool = True) -> None:
        # No compression: the figures are for the frames as they are.
        self.ws = await connect(self.url, compression=None, max_queue=None,
                                ping_interval=None, open_timeout=60)
        await self.ws.send(orjson.dumps({"type": "auth", "token": self.token}).decode())
        while True:
            frame = orjson.loads(await self.ws.recv())
            if frame["type"] == "ready":
                break
        if listen:
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def send(self, chat_id: int) -> None:
        assert self.ws is not None
        # A unique 20-character text: the benchmark's message size.
        text = f"bench {next(self._texts):014d}"
        self.in_flight += 1
        self.tally.sent_at[text] = time.perf_counter()
        await self.ws.send(orjson.dumps({"type": "send", "id": next(self._ids),
                                         "chat_id": chat_id, "client_id": str(uuid.uuid4()),
                                         "text": text}).decode())

    async def _read(self) -> None:
        assert self.ws is not None
        tally = self.tally
        async for raw in self.ws:
            now = time.perf_counter()
            frame: dict[str, Any] = orjson.loads(raw)
            kind = frame["type"]
            if kind == "message.new":
                message = frame["message"]
                if message["sender_id"] == self.user_id:
                    continue
                sent = tally.sent_at.get(message["text"])
                if sent is not None:
                    tally.delivered += 1
                    tally.latencies.append(now - sent)
                    tally.wire_sizes.append(len(raw) if isinstance(raw, bytes)
                                            else len(raw.encode()))
            elif kind == "ack":
                self.in_flight -= 1
                tally.acked += 1
                if self.on_ack is not None:
                    self.on_ack()
            elif kind == "error":
                tally.errors.append(str(frame["error"]))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
