"""Shared fakes for tests: the clock, the SMS gateway, and a server on a loopback port
(in a thread, or as a process of its own)."""

from darbuka.services.ratelimit import WRITES
from darbuka.testing.fakes import FakeClock, RecordingCodeSender
from darbuka.testing.process import ServerProcess, WorkerProcess
from darbuka.testing.server import ServerThread, free_port

__all__ = ["LIFTED_WRITE_LIMITS", "FakeClock", "RecordingCodeSender", "ServerProcess",
           "ServerThread", "WorkerProcess", "free_port"]

# Settings that keep the per-account write limits and the anti-spam limits out of the way
# (still counted), for tests and benchmarks whose few new accounts write faster and into
# more chats than people do.
LIFTED_WRITE_LIMITS: dict[str, object] = {
    **{f"write_limit_{write}": "1000000/second" for write in WRITES},
    "new_account_chats": 1_000_000, "new_account_direct_chats": 1_000_000,
    "spam_same_content_chats": 1_000_000}
