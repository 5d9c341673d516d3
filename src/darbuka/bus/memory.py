"""The in-process bus: one server process, handlers called at once, in order."""

from __future__ import annotations

from darbuka.bus.base import Handlers
from darbuka.stream import Ephemeral, Event

__all__ = ["MemoryBus"]


class MemoryBus:
    # Nothing to lose in one process: never reconnects, never a gap, never behind.
    reconnects = 0
    gap_fills = 0
    lag_s = 0.0

    def __init__(self) -> None:
        self._handlers: list[Handlers] = []

    def subscribe(self, handlers: Handlers) -> None:
        self._handlers.append(handlers)

    def publish(self, events: list[Event]) -> None:
        for handlers in self._handlers:
            handlers.events(events)

    def publish_ephemeral(self, notice: Ephemeral) -> None:
        for handlers in self._handlers:
            handlers.ephemeral(notice)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
