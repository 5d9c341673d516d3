"""What every HTTP request and answer gets at the door, before and after any route.

- No request may carry NUL in its path or query: no text the server stores may hold it
  (PostgreSQL cannot), so such a request is refused here, as 400, instead of failing deep in
  a query. Bodies are checked the same way by the request models (`api/schemas.Body`).
- Every answer says `X-Content-Type-Options: nosniff`, so a browser never runs a JSON or
  media answer as something else.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Edge"]

NUL_REFUSED = (b'{"error":{"code":"invalid_request",'
               b'"message":"the address may not contain NUL characters"}}')
NOSNIFF = (b"x-content-type-options", b"nosniff")


class Edge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        if b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(
                scope.get("query_string", b"").replace(b"+", b" ")):
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(NUL_REFUSED)).encode()),
                                    NOSNIFF]})
            await send({"type": "http.response.body", "body": NUL_REFUSED})
            return

        async def with_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == NOSNIFF[0] for name, _ in headers):
                    headers.append(NOSNIFF)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_nosniff)
