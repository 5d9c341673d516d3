"""The bus interface. Events are published after commit, in position order per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from darbuka.stream import Ephemeral, Event

__all__ = ["Bus", "Handlers"]


@dataclass(frozen=True, slots=True)
class Handlers:
    events: Callable[[list[Event]], None]
    ephemeral: Callable[[Ephemeral], None]


class Bus(Protocol):
    # Read-only health figures (for /ready and /metrics): how often the bus lost its
    # connection and made it again, how many gaps in positions it filled from storage,
    # and how long it has been waiting on the oldest missing position (0.0: none).
    @property
    def reconnects(self) -> int: ...

    @property
    def gap_fills(self) -> int: ...

    @property
    def lag_s(self) -> float: ...

    def subscribe(self, handlers: Handlers) -> None: ...

    def publish(self, events: list[Event]) -> None:
        """Hand committed events to every process; never blocks on slow consumers."""
        ...

    def publish_ephemeral(self, notice: Ephemeral) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
