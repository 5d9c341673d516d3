"""Fixed-window rate limits. In memory for one process; Redis shares them at scale."""

from __future__ import annotations

from darbuka.clock import Clock
from darbuka.errors import RateLimited

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # key -> (second the window ends, hits in it)
        self._windows: dict[str, tuple[int, int]] = {}

    def check_hit(self, key: str, *, limit: int, window_s: int) -> None:
        """Count one hit on `key`; raise RateLimited once `limit` is passed in the window."""
        now = self._clock.now_ms() // 1000
        ends, count = self._windows.get(key, (0, 0))
        if ends <= now:
            ends, count = (now // window_s + 1) * window_s, 0
        if count >= limit:
            raise RateLimited("too many attempts; try again later", retry_after=ends - now)
        self._windows[key] = (ends, count + 1)
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
