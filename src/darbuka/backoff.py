"""Exponential backoff with full jitter: a random wait in [0, min(cap, base * 2**attempt)].

Full jitter spreads the retries of many clients that lost the server at the same moment,
so they do not all come back in the same millisecond.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    def __init__(self, base: float = 0.2, cap: float = 30.0) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0

    def delay_for(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(attempt, 30))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret

    def next_delay(self) -> float:
        delay = self.delay_for(self.attempt)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
