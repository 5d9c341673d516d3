"""Presence in Redis, one process's side: claims made and withdrawn, a claim that is not
renewed runs out, and a Redis that does not answer fails no request (only users held here
are online then). The processes themselves are in test_cluster_presence.py."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest

from darbuka.bus.presence import RedisPresence
from darbuka.testing import free_port

REDIS_URL = os.environ.get("DARBUKA_TEST_REDIS_URL", "")


class WallClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.skipif(not REDIS_URL, reason="DARBUKA_TEST_REDIS_URL is not set")
async def test_a_claim_is_seen_elsewhere_withdrawn_and_runs_out() -> None:
    prefix, clock = f"test-{uuid.uuid4().hex[:8]}", WallClock()
    # No cache: each question is what Redis says now.
    here, there = (RedisPresence(REDIS_URL, prefix=prefix, ttl_s=30, refresh_s=3600,
                                 cache_s=0, now=clock) for _ in range(2))
    await here.start()
    try:
        here.mark(1, True)
        here.mark(2, True)
        await _until(there, [1, 2, 3], {1, 2})
        here.mark(2, False)
        await _until(there, [1, 2], {1})
        clock.now += 31  # nothing renewed it (refresh_s is an hour): the claim ran out
        assert await there.online([1]) == set()
        assert await here.online([1]) == {1}  # held here: known without asking
    finally:
        await here.stop()
        await there.stop()


async def _until(presence: RedisPresence, users: list[int], wanted: set[int]) -> None:
    """Poll with a deadline: marks reach Redis in the background."""
    deadline = time.monotonic() + 5
    while (found := await presence.online(users)) != wanted:
        assert time.monotonic() < deadline, f"online {found}, not {wanted}"
        await asyncio.sleep(0.01)


async def test_redis_away_counts_only_users_held_here() -> None:
    presence = RedisPresence(f"redis://127.0.0.1:{free_port()}/0")
    await presence.start()
    try:
        presence.mark(7, True)
        assert await presence.online([7, 8]) == {7}
    finally:
        await presence.stop()
