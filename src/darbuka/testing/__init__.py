"""Shared fakes for tests: the clock, the SMS gateway, and a server on a loopback port
(in a thread, or as a process of its own)."""

from darbuka.testing.fakes import FakeClock, RecordingCodeSender
from darbuka.testing.process import ServerProcess
from darbuka.testing.server import ServerThread, free_port

__all__ = ["FakeClock", "RecordingCodeSender", "ServerProcess", "ServerThread", "free_port"]
