"""Publish/subscribe between server processes: in memory (one process) or Redis."""

from __future__ import annotations

from darbuka.bus.base import Bus, Handlers
from darbuka.bus.memory import MemoryBus

__all__ = ["Bus", "Handlers", "MemoryBus"]
