"""The in-process rate counts: fixed windows on the clock, forgotten once over."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from darbuka.errors import RateLimited
from darbuka.services.ratelimit import RateLimiter


class Frozen:
    """A clock that moves only when told (a window boundary never falls mid-test)."""

    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)

    def now_ms(self) -> int:
        return self.ms


def test_counts_per_window_and_forgets_windows_that_are_over() -> None:
    clock = Frozen()
    limiter = RateLimiter(clock)

    async def hits(key: str, n: int) -> int:
        refused = 0
        for _ in range(n):
            try:
                await limiter.check_rates(key, ((3, 1), (5, 60)))
            except RateLimited:
                refused += 1
        return refused

    assert asyncio.run(hits("a", 4)) == 1  # the 4th in one second
    clock.advance(1)
    assert asyncio.run(hits("a", 3)) == 1  # a new second, but 5 a minute: the 6th is refused
    assert asyncio.run(hits("b", 3)) == 0  # per key
    for n in range(1000):  # many keys, each in a window that ends
        asyncio.run(hits(f"k{n}", 1))
    clock.advance(120)
    asyncio.run(hits("later", 1))
    counts = limiter._memory._counts  # type: ignore[union-attr]
    assert set(counts) == {"later:1:" + str(int(clock.now_ms() / 1000)),
                           "later:60:" + str(int(clock.now_ms() / 1000 // 60))}


def test_a_refusal_says_when_to_retry() -> None:
    clock = Frozen()
    limiter = RateLimiter(clock)

    async def run() -> None:
        await limiter.check_hit("x", limit=1, window_s=60)
        await limiter.check_hit("x", limit=1, window_s=60)

    with pytest.raises(RateLimited) as refused:
        asyncio.run(run())
    assert 1 <= refused.value.retry_after <= 60


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_a_count_is_read_with_or_without_a_hit(where: str) -> None:
    """What anti-spam counts with (`count`): in memory, and in Redis when processes share."""
    redis_url = os.environ.get("DARBUKA_TEST_REDIS_URL", "") if where == "redis" else ""
    if where == "redis" and not redis_url:
        pytest.skip("DARBUKA_TEST_REDIS_URL is not set")
    clock = Frozen()

    async def run() -> list[int]:
        limiter = RateLimiter(clock, redis_url=redis_url, prefix=f"t{uuid.uuid4().hex}")
        seen = [await limiter.count("k", 60, hit=False), await limiter.count("k", 60),
                await limiter.count("k", 60), await limiter.count("k", 60, hit=False)]
        clock.advance(60)
        return [*seen, await limiter.count("k", 60, hit=False)]

    assert asyncio.run(run()) == [0, 1, 2, 2, 0]
