"""The door every HTTP request passes first, when metrics or JSON logs are on: the request
id (logs, and the `X-Request-Id` answer header), the latency histogram, and `/metrics` on
the main port when a token guards it. A plain ASGI wrapper, so a request costs a clock read
and one histogram observation; with both off it is not installed at all."""

from __future__ import annotations

import hmac
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from darbuka.logs import REQUEST_ID, RequestIds
from darbuka.ops.metrics import CONTENT_TYPE, Metrics

__all__ = ["Door", "metrics_answer"]

REQUEST_ID_HEADER = b"x-request-id"
NOT_FOUND = b'{"error":{"code":"not_found","message":"Not Found"}}'
UNAUTHORIZED = (b'{"error":{"code":"unauthorized",'
                b'"message":"GET /metrics needs the metrics token"}}')


class Door:
    def __init__(self, app: ASGIApp, *, metrics: Metrics | None, request_ids: bool,
                 metrics_token: str = "", serve_metrics: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.ids = RequestIds() if request_ids else None
        self.token = metrics_token
        # Whether /metrics is answered here (a token and no port of its own).
        self.serve_metrics = serve_metrics and metrics is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.serve_metrics and scope["path"] == "/metrics":
            assert self.metrics is not None  # noqa: S101 - checked in __init__
            await metrics_answer(self.metrics, self.token, scope, send)
            return
        token = None
        if self.ids is not None:
            request_id = self.ids.take(_header(scope, REQUEST_ID_HEADER))
            token = REQUEST_ID.set(request_id)
            send = _with_request_id(send, request_id.encode())
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            if self.metrics is not None:
                self.metrics.observe(scope, time.perf_counter() - started)
            if token is not None:
                REQUEST_ID.reset(token)


async def metrics_answer(metrics: Metrics, token: str, scope: Scope, send: Send) -> None:
    """The answer to one GET /metrics: the text format, or 401 without the right token."""
    if scope["method"] != "GET":
        await _plain(send, 405, NOT_FOUND.replace(b"not_found", b"method_not_allowed")
                     .replace(b"Not Found", b"Method Not Allowed"))
        return
    if token:
        sent = _header(scope, b"authorization") or b""
        if not hmac.compare_digest(sent, b"Bearer " + token.encode()):
            await _plain(send, 401, UNAUTHORIZED, extra=[(b"www-authenticate", b"Bearer")])
            return
    body = await metrics.render()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", CONTENT_TYPE.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _with_request_id(send: Send, request_id: bytes) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()),
                                              (REQUEST_ID_HEADER, request_id)]}
        await send(message)

    return sending


async def _plain(send: Send, status: int, body: bytes,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
