"""Live delivery: the hub routes committed events to connected devices."""

from darbuka.gateway.hub import Hub, Sink

__all__ = ["Hub", "Sink"]
