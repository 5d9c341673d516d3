"""The built web client, served at `/` from `web_dir` when it exists.

Caching: files under `assets/` carry a content hash in their names, so they are cached
for a year and never revalidated; everything else (index.html, the service worker, the
manifest) is revalidated on every load, so a new release shows up at once. Paths the
client routes itself fall back to index.html. Every page gets a strict Content-Security-
Policy: scripts and styles only from this origin, no inline code, no plugins, no framing.

Compression: the build writes `name.br` and `name.gz` beside each text file; a client that
accepts one of them gets it (on a 400 kbit/s link the client's JavaScript loads in a third of
the time). Nothing is compressed per request.
"""

from __future__ import annotations

import mimetypes
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


# Not in every system's table; with nosniff the type must be right.
mimetypes.add_type("application/manifest+json", ".webmanifest")

# Path spaces the server owns: an unknown path there is a 404, never the client's page
# (a public page's `/c/{handle}/media/{id}/original` must not answer 200 with the app).
SERVER_PATHS = frozenset({"api", "botapi", "c"})

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
        if path.split("/", 1)[0] in SERVER_PATHS:
            raise NotFound("no such route", code="route_not_found")
        if scope["method"] not in ("GET", "HEAD"):
            raise MethodNotAllowed("the web client is read-only")
        await self._response(path, _accepted(scope))(scope, receive, send)

    def _response(self, path: str, accepted: frozenset[str]) -> Response:
        index = self.root / "index.html"
        if not index.is_file():
            raise NotFound("the web client is not built here", code="web_client_missing")
        target = (self.root / path).resolve()
        if path and target.is_file() and target.is_relative_to(self.root):
            cache = IMMUTABLE if target.parent.name == "assets" else REVALIDATE
            return _file(target, cache, accepted)
        return _file(index, REVALIDATE, accepted)


def _accepted(scope: Scope) -> frozenset[str]:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return frozenset(p.split(";")[0].strip() for p in value.decode("latin-1").split(","))
    return frozenset()


_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def _file(path: Path, cache: str, accepted: frozenset[str]) -> Response:
    headers = {"cache-control": cache, "vary": "accept-encoding", **_SECURITY_HEADERS}
    for encoding, suffix in _ENCODINGS:
        packed = path.with_name(path.name + suffix)
        if encoding in accepted and packed.is_file():
            # The type is the original file's, not that of a .gz/.br file.
            return FileResponse(packed, media_type=_media_type(path),
                                headers={**headers, "content-encoding": encoding})
    return FileResponse(path, media_type=_media_type(path), headers=headers)


def _media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
