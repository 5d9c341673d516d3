"""`/metrics` on a port of its own (`DARBUKA_METRICS_PORT`), served by this process's event
loop: the figures are read where they live, with no thread and no second web server.

A scrape is one short HTTP/1.1 request; anything else gets 404 and every connection is
closed after its answer (Prometheus opens a new one per scrape, or keeps none)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import MutableMapping
from typing import Any

from darbuka.ops.door import metrics_answer
from darbuka.ops.metrics import Metrics

__all__ = ["MetricsPort"]

log = logging.getLogger(__name__)
# A request's line and headers must arrive within this long and this size.
READ_TIMEOUT_S = 10.0
MAX_HEAD_BYTES = 16_384


class MetricsPort:
    def __init__(self, metrics: Metrics, *, host: str, port: int, token: str) -> None:
        self._metrics = metrics
        self._host = host
        self._port = port
        self._token = token
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port,
                                                  limit=MAX_HEAD_BYTES)
        log.info("metrics on http://%s:%s/metrics", self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
            scope = _scope(head)
            if scope is None:
                writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n"
                             b"connection: close\r\n\r\n")
            elif scope["path"] != "/metrics":
                writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n"
                             b"connection: close\r\n\r\n")
            else:
                await metrics_answer(self._metrics, self._token, scope, _Sender(writer))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass  # a client that went away or never finished asking
        finally:
            writer.close()


def _scope(head: bytes) -> dict[str, Any] | None:
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return None
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.strip().lower(), value.strip()))
    return {"method": parts[0].decode("latin-1"),
            "path": parts[1].split(b"?", 1)[0].decode("latin-1"), "headers": headers}


class _Sender:
    """The two ASGI messages of `metrics_answer`, written as one HTTP/1.1 answer."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status = int(message["status"])
            reason = {200: b"OK", 401: b"Unauthorized", 405: b"Method Not Allowed"}
            lines = [b"HTTP/1.1 %d %s" % (status, reason.get(status, b"Error"))]
            lines += [name + b": " + value for name, value in message["headers"]]
            lines.append(b"connection: close")
            self._writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
        elif message["type"] == "http.response.body":
            self._writer.write(message.get("body", b""))
