"""Shared fakes for tests: the clock, the SMS gateway, and a server on a loopback port."""

from darbuka.testing.fakes import FakeClock, RecordingCodeSender
from darbuka.testing.server import ServerThread, free_port

__all__ = ["FakeClock", "RecordingCodeSender", "ServerThread", "free_port"]
