"""Rate limits: one limiter for the whole process, counting in fixed windows on the clock.

The counts live in this process (`_Windows`, a dict) or, when `redis_url` is set, in the
Redis storage of the `limits` package, so that every server process counts against the
same numbers. Window boundaries are computed here from the injected clock, not by the
storage: each count's key carries its window's number, so a test moves to the next window
by moving its fake clock, and the storage's own expiry only drops windows that are over.

`WriteLimits` is the rule for writes: every service method that changes state calls
`check` with the account and the kind of write first, one line, before any work.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Literal

from limits import parse_many
from limits.aio.storage import RedisStorage

from darbuka.clock import Clock
from darbuka.errors import RateLimited
from darbuka.settings import Settings

__all__ = ["WRITES", "RateLimiter", "Write", "WriteLimits", "parse_rates"]

# (hits allowed, window in seconds)
Rate = tuple[int, int]
Write = Literal["sends", "reactions", "marks", "typing", "uploads", "reports", "chats",
                "other"]
WRITES: tuple[Write, ...] = ("sends", "reactions", "marks", "typing", "uploads", "reports",
                             "chats", "other")
_NAMES = {"sends": "messages", "reactions": "reactions", "marks": "read or delivered marks",
          "typing": "typing notices", "uploads": "uploads", "reports": "reports",
          "chats": "new chats", "other": "changes"}


def parse_rates(text: str) -> tuple[Rate, ...]:
    """`"30/second;600/minute"` (the `limits` notation) as (hits, seconds), shortest first;
    empty for no limit."""
    if not text.strip():
        return ()
    return tuple(sorted(((item.amount, item.get_expiry()) for item in parse_many(text)),
                        key=lambda rate: rate[1]))


class _Windows:
    """Counts per window key, in this process. A count is dropped once its window is over,
    in a sweep at most every `SWEEP_S` (the `limits` package's memory storage does the same
    with a timer thread and a lock per count: a tenth of a send's CPU)."""

    SWEEP_S = 10.0

    def __init__(self) -> None:
        self._counts: dict[str, list[float]] = {}  # key -> [count, expires at]
        self._next_sweep = 0.0

    def incr(self, key: str, expires_at: float, now: float) -> int:
        if now >= self._next_sweep:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            self._next_sweep = now + self.SWEEP_S
        entry = self._counts.get(key)
        if entry is None:
            self._counts[key] = [1, expires_at]
            return 1
        entry[0] += 1
        return int(entry[0])

    def get(self, key: str, now: float) -> int:
        entry = self._counts.get(key)
        return int(entry[0]) if entry is not None and entry[1] > now else 0


class RateLimiter:
    def __init__(self, clock: Clock, *, redis_url: str = "", prefix: str = "darbuka") -> None:
        self._clock = clock
        self._memory = None if redis_url else _Windows()
        self._redis = (RedisStorage(_async_uri(redis_url), implementation="redispy",
                                    key_prefix=f"{prefix}:limits") if redis_url else None)
        # Checks of one key waiting on Redis, newest last: they finish in the order made,
        # so the sends of one socket reach the writer in the order they came.
        self._tails: dict[str, asyncio.Future[None]] = {}

    async def check_hit(self, key: str, *, limit: int, window_s: int) -> None:
        """Count one hit on `key`; raise RateLimited once `limit` is passed in the window."""
        await self.check_rates(key, ((limit, window_s),))

    async def count(self, key: str, window_s: int, *, hit: bool = True) -> int:
        """How many hits `key` has in the current window of `window_s`, after counting one
        more (`hit`) or not."""
        now = self._clock.now_ms() / 1000
        window_key = _window_key(key, window_s, now)
        if self._memory is not None:
            if not hit:
                return self._memory.get(window_key, now)
            return self._memory.incr(window_key, (now // window_s + 1) * window_s, now)
        assert self._redis is not None  # noqa: S101 - one of the two is set
        if not hit:
            return int(await self._redis.get(window_key))
        return int(await self._redis.incr(window_key, window_s))

    async def check_rates(self, key: str, rates: Sequence[Rate],
                          what: str = "attempts") -> None:
        """Count one hit on `key` in each window, shortest first; raise RateLimited at the
        first window whose limit is passed (longer windows do not count a refused hit)."""
        if self._memory is not None:
            now = self._clock.now_ms() / 1000
            for limit, window_s in rates:
                window = now // window_s
                count = self._memory.incr(f"{key}:{window_s}:{int(window)}",
                                          (window + 1) * window_s, now)
                _check(count, limit, window_s, now, what)
        elif rates:
            await self._check_in_order(key, rates, what)

    async def _check_in_order(self, key: str, rates: Sequence[Rate], what: str) -> None:
        assert self._redis is not None  # noqa: S101 - only with Redis
        before = self._tails.get(key)
        mine = self._tails[key] = asyncio.get_running_loop().create_future()
        try:
            if before is not None:
                await asyncio.shield(before)
            now = self._clock.now_ms() / 1000
            for limit, window_s in rates:
                count = await self._redis.incr(_window_key(key, window_s, now), window_s)
                _check(count, limit, window_s, now, what)
        finally:
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]


def _window_key(key: str, window_s: int, now: float) -> str:
    return f"{key}:{window_s}:{int(now // window_s)}"


def _check(count: int, limit: int, window_s: int, now: float, what: str) -> None:
    if count > limit:
        retry_after = max(1, math.ceil((now // window_s + 1) * window_s - now))
        raise RateLimited(f"too many {what}; try again in {retry_after} s",
                          retry_after=retry_after)


def _async_uri(redis_url: str) -> str:
    """`redis://…` as the `limits` package names its asyncio Redis storage."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


class WriteLimits:
    """How many writes of each kind one account may make: `write_limit_*` in the settings.

    Checked at the top of each service method a person or bot calls to change something,
    before any read or write, so a refused write costs one count and nothing else.
    """

    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self._limiter = limiter
        self._rates = {w: parse_rates(getattr(settings, f"write_limit_{w}")) for w in WRITES}

    async def check(self, write: Write, user_id: int) -> None:
        await self._limiter.check_rates(f"write:{write}:{user_id}", self._rates[write],
                                        _NAMES[write])
