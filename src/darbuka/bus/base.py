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
    def subscribe(self, handlers: Handlers) -> None: ...

    def publish(self, events: list[Event]) -> None:
        """Hand committed events to every process; never blocks on slow consumers."""
        ...

    def publish_ephemeral(self, notice: Ephemeral) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
