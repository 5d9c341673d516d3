"""The bus interface. Events are published after commit, in position order per process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from darbuka.stream import Ephemeral, Event

__all__ = ["Bus", "FetchEvents", "Handlers", "Stored"]


@dataclass(frozen=True, slots=True)
class Handlers:
    events: Callable[[list[Event]], None]
    ephemeral: Callable[[Ephemeral], None]


@dataclass(frozen=True, slots=True)
class Stored:
    """What the database holds of a span of positions, read in this order: the head (the
    newest position visible), then every stored event with after < pos <= min(upto, head).
    A position in that span that is not among `events` will never exist (pruned)."""

    head: int
    events: list[Event]


# `fetch(after, upto)`: the database's side of the stream, handed to a bus by the composition
# root (the bus is below the services and may not read storage itself). `fetch(p, p)` reads
# only the head.
FetchEvents = Callable[[int, int], Awaitable[Stored]]


class Bus(Protocol):
    def subscribe(self, handlers: Handlers) -> None: ...

    def publish(self, events: list[Event]) -> None:
        """Hand committed events to every process; never blocks on slow consumers."""
        ...

    def publish_ephemeral(self, notice: Ephemeral) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    # What readiness checks and metrics read; none of them changes anything.
    @property
    def reconnects(self) -> int:
        """How often the link to the other processes was lost and made again."""
        ...

    @property
    def gap_fills(self) -> int:
        """Events read from the database because the bus did not bring them in time."""
        ...

    @property
    def lag_s(self) -> float:
        """How far live delivery is behind: the age of the oldest gap not yet filled (0.0
        when every event known to exist was delivered)."""
        ...
