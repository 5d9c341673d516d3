"""The sink of one long-poll request: it only needs to know that something arrived."""

from __future__ import annotations

import asyncio

from darbuka.bus.base import Ephemeral
from darbuka.services.events import Event

__all__ = ["PollSink"]


class PollSink:
    __slots__ = ("user_id", "woken")

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.woken = asyncio.Event()

    def push(self, event: Event) -> None:
        self.woken.set()

    def push_ephemeral(self, notice: Ephemeral) -> None:
        return None
