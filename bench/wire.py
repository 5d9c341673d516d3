"""A minimal HTTP/1.1 keep-alive client for the load generator.

A full client library spends more CPU per request than the server under test does on a
fast path, and the benchmark shares the machine with the server; this one writes the
request bytes and reads one `Content-Length` response, nothing more.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

__all__ = ["HttpConnection"]


class HttpConnection:
    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self._auth = f"Authorization: Bearer {token}\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self._reader is not None
        assert self._writer is not None
        payload = b"" if body is None else orjson.dumps(body)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Content-Length: {len(payload)}\r\n").encode()
        if body is not None:
            head += b"Content-Type: application/json\r\n"
        self._writer.write(head + self._auth + b"\r\n" + payload)
        status_line = await self._reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        data = await self._reader.readexactly(length) if length else b""
        return status, (orjson.loads(data) if data else None)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()
