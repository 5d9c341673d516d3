"""Who is online: someone with a socket or a long poll open, on this process or, with Redis,
on any process of the cluster.

The hub tells its presence when a user's first sink opens and their last one closes
(`mark`). Alone, that is the whole answer (`LocalPresence`). With Redis each user has a
sorted set `<prefix>:presence:<user_id>` of the processes that hold them, each scored with
when its claim runs out: a process refreshes its claims every `refresh_s` to `ttl_s` ahead,
and withdraws one when the user leaves. A process that dies withdraws nothing; its claims
simply run out, so nobody stays online longer than `ttl_s` after their last process went.

`online` is asked per user in lists: users held here are answered at once, the rest in one
pipelined round trip for the lot, and remembered for `CACHE_S`. While Redis does not answer
only users held here are online: presence is a hint, never worth failing a request over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Protocol

import redis.asyncio as redis

from darbuka.backoff import Backoff

__all__ = ["LocalPresence", "Presence", "RedisPresence"]

log = logging.getLogger(__name__)
# How long an answer about a user held elsewhere is reused: a profile list asks for many
# users, and clients ask again as they scroll.
CACHE_S = 1.0
CACHE_MAX = 100_000
# Users claimed per pipeline: bounds one round trip's size when thousands are connected.
CHUNK = 1_000
REDIS_TIMEOUT_S = 1.0
RETRY_CAP_S = 5.0


class Presence(Protocol):
    def mark(self, user_id: int, online: bool) -> None:
        """A user's first sink on this process opened (True) or their last closed; must not
        block."""
        ...

    async def online(self, user_ids: Iterable[int]) -> set[int]:
        """Which of `user_ids` are online anywhere."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LocalPresence:
    """One process: online is having a sink here."""

    def __init__(self) -> None:
        self._mine: set[int] = set()

    def mark(self, user_id: int, online: bool) -> None:
        if online:
            self._mine.add(user_id)
        else:
            self._mine.discard(user_id)

    async def online(self, user_ids: Iterable[int]) -> set[int]:
        return {u for u in user_ids if u in self._mine}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisPresence:
    def __init__(self, url: str, *, prefix: str = "darbuka", ttl_s: float = 45.0,
                 refresh_s: float = 15.0, cache_s: float = CACHE_S,
                 now: Callable[[], float] = time.time) -> None:
        """`now` is wall-clock seconds: claims are compared across machines, so their clocks
        must agree to well within `ttl_s - refresh_s`."""
        self._client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                            socket_timeout=REDIS_TIMEOUT_S)
        self._prefix = f"{prefix}:presence:"
        self._ttl_s, self._refresh_s, self._cache_s, self._now = ttl_s, refresh_s, cache_s, now
        # Names this process's claims; a restart is a new process whose old claims run out.
        self._process = uuid.uuid4().hex
        self._mine: set[int] = set()
        self._changed: dict[int, bool] = {}  # marks not yet in Redis, the latest per user
        self._wake = asyncio.Event()
        self._cache: dict[int, tuple[bool, float]] = {}
        self._task: asyncio.Task[None] | None = None

    def mark(self, user_id: int, online: bool) -> None:
        if online:
            self._mine.add(user_id)
        else:
            self._mine.discard(user_id)
        self._changed[user_id] = online
        self._wake.set()

    async def online(self, user_ids: Iterable[int]) -> set[int]:
        wanted = set(user_ids)
        found = wanted & self._mine
        at = time.monotonic()
        ask = []
        for user_id in wanted - found:
            cached = self._cache.get(user_id)
            if cached is not None and cached[1] > at:
                if cached[0]:
                    found.add(user_id)
            else:
                ask.append(user_id)
        if ask:
            found |= await self._ask(ask, at)
        return found

    async def _ask(self, user_ids: list[int], at: float) -> set[int]:
        now = self._now()
        pipe = self._client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.zcount(self._key(user_id), now, "+inf")
        try:
            counts = await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning("presence: Redis does not answer (%s); only users on this process "
                        "count as online", exc)
            return set()
        if len(self._cache) > CACHE_MAX:
            self._cache.clear()
        for user_id, count in zip(user_ids, counts, strict=True):
            self._cache[user_id] = (bool(count), at + self._cache_s)
        return {u for u, count in zip(user_ids, counts, strict=True) if count}

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._keep(), name="presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        # Withdrawn at once rather than left to run out: a restart shows nobody online
        # who is not.
        self._changed.update(dict.fromkeys(self._mine, False))
        with contextlib.suppress(redis.RedisError, OSError):
            await self._write(self._changed)
        await self._client.aclose()

    async def _keep(self) -> None:
        """Write marks as they come, and every claim again every `refresh_s`."""
        backoff = Backoff(0.1, RETRY_CAP_S)
        next_refresh = 0.0
        while True:
            try:
                if time.monotonic() >= next_refresh:
                    next_refresh = time.monotonic() + self._refresh_s
                    self._changed.update(dict.fromkeys(self._mine, True))
                changed, self._changed = self._changed, {}
                self._wake.clear()
                await self._write(changed)
                backoff.reset()
            except Exception as exc:  # Redis away, or a bug: never stop claiming for good
                # Put back unless marked again since; the next refresh claims all anyway.
                self._changed = changed | self._changed
                if not backoff.attempt:
                    log.warning("presence: writing to Redis failed (%s); retrying", exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, next_refresh - time.monotonic())):
                    await self._wake.wait()

    async def _write(self, changed: dict[int, bool]) -> None:
        items = list(changed.items())
        until = self._now() + self._ttl_s
        ttl_ms = int(self._ttl_s * 1000)
        for start in range(0, len(items), CHUNK):
            pipe = self._client.pipeline(transaction=False)
            for user_id, online in items[start:start + CHUNK]:
                key = self._key(user_id)
                if online:
                    pipe.zadd(key, {self._process: until})
                    # Claims of processes that died go; the key goes with the last claim.
                    pipe.zremrangebyscore(key, "-inf", self._now())
                    pipe.pexpire(key, ttl_ms)
                else:
                    pipe.zrem(key, self._process)
            await pipe.execute()

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"
