"""Publish/subscribe between server processes: in memory (one process) or Redis."""

from __future__ import annotations

from darbuka.bus.base import Bus, FetchEvents, Handlers, Stored
from darbuka.bus.memory import MemoryBus

__all__ = ["Bus", "FetchEvents", "Handlers", "MemoryBus", "Stored"]
