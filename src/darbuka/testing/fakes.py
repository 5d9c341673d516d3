"""Fakes for the clock and the outside world (the SMS gateway)."""

from __future__ import annotations

import threading
import time

__all__ = ["FakeClock", "RecordingCodeSender"]


class FakeClock:
    """Real time plus an offset the test moves forward with `advance`."""

    def __init__(self) -> None:
        self._offset_s = 0.0
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset_s += seconds

    def now_ms(self) -> int:
        return int((time.time() + self._offset_s) * 1000)

    def monotonic(self) -> float:
        return time.monotonic() + self._offset_s


class RecordingCodeSender:
    """Keeps the last code sent to each number, as an SMS gateway's outbox would."""

    name = "console"

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.sent = 0

    async def send(self, phone: str, code: str, expires_in_s: int) -> None:
        self.codes[phone] = code
        self.sent += 1
