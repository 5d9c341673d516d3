"""The built web client, served at `/` from `web_dir` when it exists.

Caching: files under `assets/` carry a content hash in their names, so they are cached
for a year and never revalidated; everything else (index.html, the service worker, the
manifest) is revalidated on every load, so a new release shows up at once. Paths the
client routes itself fall back to index.html. Every page gets a strict Content-Security-
Policy: scripts and styles only from this origin, no inline code, no plugins, no framing.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from darbuka.errors import ApiError, NotFound

__all__ = ["CSP", "WebClient"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "media-src 'self' blob:; connect-src 'self'; font-src 'self'; worker-src 'self'; "
       "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
_SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class WebClient:
    """The router's fallback: what no API route matched (a wrong method there is a 405)."""

    def __init__(self, web_dir: Path) -> None:
        self.root = web_dir.resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await WebSocketClose()(scope, receive, send)
            return
        path = str(scope["path"]).lstrip("/")
        if path == "api" or path.startswith("api/"):
            raise NotFound("no such route", code="route_not_found")
        if scope["method"] not in ("GET", "HEAD"):
            raise MethodNotAllowed("the web client is read-only")
        await self._response(path)(scope, receive, send)

    def _response(self, path: str) -> Response:
        index = self.root / "index.html"
        if not index.is_file():
            raise NotFound("the web client is not built here", code="web_client_missing")
        target = (self.root / path).resolve()
        if path and target.is_file() and target.is_relative_to(self.root):
            cache = IMMUTABLE if target.parent.name == "assets" else REVALIDATE
            return _file(target, cache)
        return _file(index, REVALIDATE)


def _file(path: Path, cache: str) -> Response:
    return FileResponse(path, headers={"cache-control": cache, **_SECURITY_HEADERS})
