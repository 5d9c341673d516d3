"""Logging: plain text for people, or one JSON object a line (`DARBUKA_LOG_FORMAT=json`)
carrying the id of the HTTP request or socket frame each line was written for.

The id lives in a context variable: set once where a request or frame comes in, it follows
every await and every task started from there, so no function has to pass it along.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

__all__ = ["FORMATS", "REQUEST_ID", "JsonFormatter", "RequestIds", "configure_logging"]

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REQUEST_ID: ContextVar[str | None] = ContextVar("darbuka_request_id", default=None)
# An id a client or proxy sent is kept when it is short and plain (it lands in logs).
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


class RequestIds:
    """Fresh ids, unique across processes and restarts: a random prefix and a count
    (cheaper than a UUID per request)."""

    def __init__(self) -> None:
        self._prefix = os.urandom(4).hex() + "-"
        self._count = itertools.count(1)

    def new(self) -> str:
        return f"{self._prefix}{next(self._count)}"

    def take(self, sent: bytes | None) -> str:
        """The id a request came with, if sane; else a new one."""
        if sent is not None and _SANE.fullmatch(sent):
            return sent.decode()
        return self.new()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage()}
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str, log_format: str) -> None:
    """The root logger's one handler, on stderr, in the format asked for (unless the root
    has handlers already, as `logging.basicConfig` does: a test runner's stay)."""
    if log_format not in FORMATS:
        raise ValueError(f"DARBUKA_LOG_FORMAT must be one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
