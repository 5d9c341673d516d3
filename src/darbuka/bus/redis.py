"""The Redis bus: server processes share committed events and typing notices.

Positions are handed out in commit order, but two processes publish independently, so a
later position can reach Redis first. Subscribers therefore deliver in position order: an
early arrival waits (briefly) for the positions before it. A gap that outlives
`gap_timeout_s` means its publisher died between COMMIT and PUBLISH; it is skipped (clients
still find those events in storage when they resume).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
import redis.asyncio as redis

from darbuka.bus.base import Handlers
from darbuka.stream import Ephemeral, Event

__all__ = ["RedisBus", "decode_events", "encode_events"]

log = logging.getLogger(__name__)
# How long `stop` waits for what is still queued to reach Redis.
FLUSH_TIMEOUT_S = 5.0


def encode_events(events: list[Event]) -> bytes:
    return orjson.dumps([{"p": e.pos, "t": e.type, "b": e.body, "c": e.chat_id, "u": e.user_id,
                          "j": e.joined, "l": e.left, "o": e.origin} for e in events])


def decode_events(data: bytes) -> list[Event]:
    return [Event(pos=d["p"], type=d["t"], body=d["b"], chat_id=d["c"], user_id=d["u"],
                  joined=tuple(d["j"]), left=tuple(d["l"]), origin=d["o"])
            for d in orjson.loads(data)]


class RedisBus:
    def __init__(self, url: str, *, prefix: str = "darbuka", gap_timeout_s: float = 2.0) -> None:
        self._url = url
        self._events_channel = f"{prefix}:events"
        self._ephemeral_channel = f"{prefix}:ephemeral"
        self._gap_timeout_s = gap_timeout_s
        self._handlers: list[Handlers] = []
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: redis.Redis | None = None
        self._ready = asyncio.Event()
        # Reordering state: the next position to deliver and early arrivals by position.
        self._expected: int | None = None
        self._early: dict[int, Event] = {}
        self._gap_since: float | None = None
        self.skipped = 0
        self.reconnects = 0
        self.gap_fills = 0

    @property
    def lag_s(self) -> float:
        """How long delivery has waited on the oldest missing position (0.0: no gap)."""
        if self._gap_since is None or not self._early:
            return 0.0
        return asyncio.get_running_loop().time() - self._gap_since

    def subscribe(self, handlers: Handlers) -> None:
        self._handlers.append(handlers)

    def publish(self, events: list[Event]) -> None:
        self._outbox.put_nowait((self._events_channel, encode_events(events)))

    def publish_ephemeral(self, notice: Ephemeral) -> None:
        data = orjson.dumps({"c": notice.chat_id, "s": notice.sender_id,
                             "f": notice.frame.decode()})
        self._outbox.put_nowait((self._ephemeral_channel, data))

    async def start(self) -> None:
        self._client = redis.Redis.from_url(self._url)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._publisher(), name="bus-publish"),
                       loop.create_task(self._subscriber(), name="bus-subscribe")]
        # Subscribed before anything is published from here: no event of ours goes past us.
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        # What was published before stopping still goes out (an admin command's events).
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_TIMEOUT_S):
                    await self._outbox.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def _publisher(self) -> None:
        assert self._client is not None  # noqa: S101 - set by start()
        while True:
            channel, data = await self._outbox.get()
            try:
                await self._client.publish(channel, data)
            except redis.RedisError:
                log.exception("publishing to Redis failed; retrying")
                self._outbox.put_nowait((channel, data))
                await asyncio.sleep(0.5)
            finally:
                self._outbox.task_done()  # after a retry is queued: `stop` waits for it

    async def _subscriber(self) -> None:
        assert self._client is not None  # noqa: S101 - set by start()
        pubsub = self._client.pubsub()
        await pubsub.subscribe(self._events_channel, self._ephemeral_channel)
        # Called on every connect after this first one: redis-py reconnected the pubsub.
        if pubsub.connection is not None:
            pubsub.connection.register_connect_callback(self._on_reconnect)
        self._ready.set()
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                   timeout=self._gap_timeout_s / 4)
                if message is not None:
                    self._receive(message)
                self._check_gap()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py

    async def _on_reconnect(self, _connection: Any) -> None:
        self.reconnects += 1

    def _receive(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode()
        if channel == self._ephemeral_channel:
            data = orjson.loads(message["data"])
            notice = Ephemeral(data["c"], data["s"], data["f"].encode())
            for handlers in self._handlers:
                handlers.ephemeral(notice)
            return
        for event in decode_events(message["data"]):
            if self._expected is None:
                self._expected = event.pos
            if event.pos >= self._expected:
                self._early[event.pos] = event
        self._deliver_in_order()

    def _deliver_in_order(self) -> None:
        ready: list[Event] = []
        while self._expected is not None and self._expected in self._early:
            ready.append(self._early.pop(self._expected))
            self._expected += 1
        self._gap_since = asyncio.get_running_loop().time() if self._early else None
        if ready:
            for handlers in self._handlers:
                handlers.events(ready)

    def _check_gap(self) -> None:
        if self._gap_since is None or not self._early:
            return
        if asyncio.get_running_loop().time() - self._gap_since < self._gap_timeout_s:
            return
        lowest = min(self._early)
        log.warning("events %s..%s never arrived; skipping them", self._expected, lowest - 1)
        self.skipped += lowest - (self._expected or lowest)
        self._expected = lowest
        self._deliver_in_order()
