"""The Redis bus: server processes share committed events and typing notices.

Redis pub/sub is a speed-up, not the record: a subscriber hands events on in position order
through a `Sequencer`, which fills any gap the bus leaves from the database (a publisher that
died between COMMIT and PUBLISH, a message lost while Redis was down) instead of skipping
it. This process's own events go to its sinks at once, origin and all, and to Redis for the
others. The publisher and the subscriber are supervised: a lost connection is made again
forever, with backoff, and a new subscription first reads what it missed from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from darbuka.backoff import Backoff
from darbuka.bus.base import FetchEvents, Handlers
from darbuka.bus.sequencer import Sequencer
from darbuka.stream import Ephemeral, Event

__all__ = ["RedisBus", "decode_events", "encode_events"]

log = logging.getLogger(__name__)
# How long `stop` waits for what is still queued to reach Redis.
FLUSH_TIMEOUT_S = 5.0
# How long `start` waits for the first subscription before serving without one (live events
# then come from the database until Redis answers).
START_WAIT_S = 5.0
# Publishes held while Redis is away; past this the oldest go (the database has them).
OUTBOX_MAX = 10_000
RETRY_BASE_S = 0.1
RETRY_CAP_S = 5.0
# A subscription that hears nothing pings Redis this often, so a dead link is noticed.
HEALTH_CHECK_S = 10


def encode_events(events: list[Event]) -> bytes:
    return orjson.dumps([{"p": e.pos, "t": e.type, "b": e.body, "c": e.chat_id, "u": e.user_id,
                          "j": e.joined, "l": e.left, "o": e.origin} for e in events])


def decode_events(data: bytes) -> list[Event]:
    return [Event(pos=d["p"], type=d["t"], body=d["b"], chat_id=d["c"], user_id=d["u"],
                  joined=tuple(d["j"]), left=tuple(d["l"]), origin=d["o"])
            for d in orjson.loads(data)]


class RedisBus:
    def __init__(self, url: str, *, fetch: FetchEvents, prefix: str = "darbuka",
                 gap_grace_s: float = 0.1, poll_s: float = 1.0) -> None:
        """`fetch` reads positions from the database (`bus.base.FetchEvents`); a gap waits
        `gap_grace_s` for Redis before it is read from there, and the database's head is
        polled every `poll_s` for gaps nothing after them would show."""
        self._url = url
        self._events_channel = f"{prefix}:events"
        self._ephemeral_channel = f"{prefix}:ephemeral"
        self._fetch = fetch
        self._poll_s = poll_s
        self._handlers: list[Handlers] = []
        self._order = Sequencer(self._dispatch, fetch, grace_s=gap_grace_s)
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._queued = asyncio.Event()
        self._drained = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: redis.Redis | None = None
        self._subscribed = asyncio.Event()
        self.reconnects = 0
        self.dropped = 0

    @property
    def gap_fills(self) -> int:
        return self._order.gap_fills

    @property
    def lag_s(self) -> float:
        return self._order.lag_s

    def subscribe(self, handlers: Handlers) -> None:
        self._handlers.append(handlers)

    def publish(self, events: list[Event]) -> None:
        self._order.offer(events)  # ours: no round trip, and the sender's socket gets its ack
        self._queue(self._events_channel, encode_events(events))

    def publish_ephemeral(self, notice: Ephemeral) -> None:
        data = orjson.dumps({"c": notice.chat_id, "s": notice.sender_id,
                             "f": notice.frame.decode()})
        self._queue(self._ephemeral_channel, data)

    async def start(self) -> None:
        # Where live delivery starts: what is older, clients read from storage.
        self._order.start_at((await self._fetch(0, 0)).head)
        # No retries inside redis-py: every lost connection comes to the loops below, which
        # count it and read what was missed from the database.
        self._client = redis.Redis.from_url(self._url, retry=Retry(NoBackoff(), 0),
                                            socket_connect_timeout=RETRY_CAP_S,
                                            health_check_interval=HEALTH_CHECK_S)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(_supervised(name, body), name=name) for name, body in (
            ("bus-publish", self._publisher), ("bus-subscribe", self._subscriber),
            ("bus-fill", lambda: self._order.watch(self._poll_s)))]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(START_WAIT_S):
                await self._subscribed.wait()
        if not self._subscribed.is_set():
            log.warning("Redis does not answer yet; live events from other processes come "
                        "from the database until it does")

    async def stop(self) -> None:
        # What was published before stopping still goes out (an admin command's events).
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_TIMEOUT_S):
                    await self._drained.wait()
            if self._outbox:
                log.warning("%d publishes never reached Redis; other processes read those "
                            "events from the database", len(self._outbox))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()

    def _queue(self, channel: str, data: bytes) -> None:
        self._outbox.append((channel, data))
        if len(self._outbox) > OUTBOX_MAX:
            self._outbox.popleft()
            self.dropped += 1
        self._drained.clear()
        self._queued.set()

    async def _publisher(self) -> None:
        assert self._client is not None  # noqa: S101 - set by start()
        backoff = Backoff(RETRY_BASE_S, RETRY_CAP_S)
        while True:
            if not self._outbox:
                self._drained.set()
                self._queued.clear()
                await self._queued.wait()
                continue
            item = self._outbox[0]
            try:
                await self._client.publish(*item)
            except (redis.RedisError, OSError) as exc:
                if not backoff.attempt:
                    log.warning("publishing to Redis failed (%s); retrying", exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            if backoff.attempt:
                log.warning("publishing to Redis works again")
            backoff.reset()
            if self._outbox and self._outbox[0] is item:  # unless dropped meanwhile
                self._outbox.popleft()

    async def _subscriber(self) -> None:
        backoff = Backoff(RETRY_BASE_S, RETRY_CAP_S)
        while True:
            try:
                await self._listen(backoff)
            except (redis.RedisError, OSError) as exc:
                if not backoff.attempt:
                    log.warning("lost the Redis subscription (%s); reconnecting", exc)
            await asyncio.sleep(backoff.next_delay())

    async def _listen(self, backoff: Backoff) -> None:
        """One subscription, for as long as its connection lasts."""
        assert self._client is not None  # noqa: S101 - set by start()
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self._events_channel, self._ephemeral_channel)
            if self._subscribed.is_set():
                self.reconnects += 1
                log.warning("Redis subscription back (reconnect %d); reading what it missed "
                            "from the database", self.reconnects)
            self._subscribed.set()
            backoff.reset()
            # Subscribed first, then read: whatever was published while away is in the
            # database, and anything newer arrives here.
            self._order.catch_up()
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                   timeout=HEALTH_CHECK_S)
                if message is not None:
                    self._receive(message)
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
        self._order.offer(decode_events(message["data"]))

    def _dispatch(self, events: list[Event]) -> None:
        for handlers in self._handlers:
            handlers.events(events)


async def _supervised(name: str, body: Callable[[], Awaitable[None]]) -> None:
    """Run `body` forever: a bug that ends it is logged and it starts again, so live
    delivery never stops for good while the process runs."""
    backoff = Backoff(RETRY_BASE_S, RETRY_CAP_S)
    while True:
        try:
            await body()
        except Exception:
            log.exception("%s stopped; starting it again", name)
        await asyncio.sleep(backoff.next_delay())
