"""Refuse bodies over the limit before anything reads them: 413, nothing half-written."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit"]

TOO_LARGE = b'{"error":{"code":"body_too_large","message":"the request body is too large"}}'


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int,
                 exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Paths whose handlers bound their bodies themselves (uploads).
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.exempt_prefixes
                                       and scope["path"].startswith(self.exempt_prefixes)):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit()
                                              or int(value) > self.max_bytes):
                await _reject(send)
                return
        seen = 0
        too_large = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Stop the app reading on: it sees a disconnect and answers an error,
                    # which replacing_send turns into our 413.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def replacing_send(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await _reject(send)

        await self.app(scope, counting_receive, replacing_send)


async def _reject(send: Send) -> None:
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(TOO_LARGE)).encode())]})
    await send({"type": "http.response.body", "body": TOO_LARGE})
