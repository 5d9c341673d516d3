"""Media: status of an upload's processing, and downloads of its variants."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from darbuka.api.deps import Caller, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.errors import ApiError, NotFound

__all__ = ["MediaId", "media_router"]

media_router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
MediaId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Variant = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")]
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(ApiError):
    status = 416
    code = "range_not_satisfiable"


@media_router.get("/media/{media_id}", tags=["media"])
async def get_media(media_id: MediaId, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Processing state (`uploading`, `processing`, `ready`, `failed` with `error`) and what
    messages carry about the media."""
    return await svc.media.get(caller.user_id, media_id)


@media_router.get("/media/{media_id}/{variant}", tags=["media"], response_class=Response)
async def download(media_id: MediaId, variant: Variant, request: Request, caller: Caller,
                   svc: Svc) -> Response:
    """A variant's bytes (`thumb`, `screen`, `original`, `poster`, `low`, ...): uploader or
    members of a chat where it appears; Range, ETag, immutable caching."""
    row = await svc.media.access(caller.user_id, media_id)
    stored = orjson.loads(row["variants"] or "{}").get(variant)
    if stored is None:
        raise NotFound("no such variant", code="variant_not_found")
    size, key = int(stored["size"]), str(stored["key"])
    headers = {
        "ETag": f'"{key}"', "Accept-Ranges": "bytes",
        # Private: access is checked per user. Immutable: a key names its bytes forever.
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if row["kind"] == "file" and variant == "original":
        name = quote(row["filename"] or "file")
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    if _etag_matches(request.headers.get("if-none-match"), key):
        return Response(status_code=304, headers=headers)
    start, end = 0, size
    status = 200
    wanted = request.headers.get("range")
    if wanted and _etag_fresh(request.headers.get("if-range"), key):
        start, end = _parse_range(wanted, size)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(svc.media.blobs.read(key, start, end), status_code=status,
                             media_type=stored["mime"], headers=headers)


def _etag_matches(header: str | None, key: str) -> bool:
    if not header:
        return False
    return header.strip() == "*" or any(tag.strip().removeprefix("W/") == f'"{key}"'
                                        for tag in header.split(","))


def _etag_fresh(if_range: str | None, key: str) -> bool:
    return if_range is None or if_range.strip() == f'"{key}"'


def _parse_range(header: str, size: int) -> tuple[int, int]:
    """One byte range as [start, end); several ranges or junk: 416."""
    match = _RANGE.fullmatch(header.strip())
    if not match or not (match[1] or match[2]):
        raise RangeNotSatisfiable("send one range: bytes=start-end")
    if not match[1]:  # the last N bytes
        start, end = max(0, size - int(match[2])), size
    else:
        start = int(match[1])
        end = min(size, int(match[2]) + 1) if match[2] else size
    if start >= size or start >= end:
        raise RangeNotSatisfiable(f"the range is outside 0-{size - 1}")
    return start, end
