"""Media: processing state, downloads of variants (ranges, ETags), sticker packs."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from darbuka.api.deps import Caller, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body
from darbuka.errors import ApiError, NotFound

__all__ = ["MediaId", "Variant", "router", "send_variant"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


MediaId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


Variant = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")]


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# Positions with more digits than any file has bytes: read as "past the end" instead of
# converting thousands of digits (Python refuses over 4,300 of them).
_MAX_DIGITS = 19


class RangeNotSatisfiable(ApiError):
    status = 416
    code = "range_not_satisfiable"


@router.get("/media/{media_id}", tags=["media"])
async def get_media(media_id: MediaId, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Processing state (`uploading`, `processing`, `ready`, `failed` with `error` — e.g.
    `media_refused` when it matches a hash bank —, `held` for a moderator's review, or
    `removed` by a moderator) and what messages carry about the media."""
    return await svc.media.get(caller.user_id, media_id)


@router.get("/media/{media_id}/{variant}", tags=["media"], response_class=Response)
async def download(media_id: MediaId, variant: Variant, request: Request, caller: Caller,
                   svc: Svc) -> Response:
    """A variant's bytes (`thumb`, `screen`, `original`, `poster`, `low`, ...): uploader or
    members of a chat where it appears; Range, ETag, immutable caching."""
    row = await svc.media.access(caller.user_id, media_id)
    # Private: access is checked per user. Immutable: a key names its bytes forever.
    return await send_variant(row, variant, request, svc,
                              cache="private, max-age=31536000, immutable")


async def send_variant(row: Any, variant: str, request: Request, svc: Svc, *,
                       cache: str) -> Response:
    """A variant's bytes of a media row the caller may read (ranges, ETags)."""
    stored = svc.media.variant(row, variant)
    if stored is None:
        raise NotFound("no such variant", code="variant_not_found")
    size, key = int(stored["size"]), str(stored["key"])
    headers = {
        "ETag": f'"{key}"', "Accept-Ranges": "bytes", "Cache-Control": cache,
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
        try:
            start, end = _parse_range(wanted, size)
        except RangeNotSatisfiable as exc:
            return JsonResponse(exc.as_dict(), status_code=exc.status,
                                headers={"Content-Range": f"bytes */{size}"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    chunks = await svc.media.open(key, start, end)
    return StreamingResponse(chunks, status_code=status,
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
    start, last = _position(match[1]), _position(match[2])
    if not match[1]:  # the last N bytes
        start, end = max(0, size - last), size
    else:
        end = min(size, last + 1) if match[2] else size
    if start >= size or start >= end:
        raise RangeNotSatisfiable(f"the range is outside 0-{size - 1}")
    return start, end


def _position(digits: str) -> int:
    if len(digits) > _MAX_DIGITS:
        return 2**63
    return int(digits) if digits else 0


PackId = Annotated[int, Path(gt=0, lt=2**63, description="sticker pack id")]


class PackCreateBody(Body):
    title: str = Field(min_length=1, max_length=64)


class StickerAddBody(Body):
    media_id: str = Field(min_length=1, max_length=32)
    emoji: str = Field("", max_length=16)


@router.get("/sticker-packs", tags=["stickers"])
async def list_packs(caller: Caller, svc: Svc) -> dict[str, Any]:
    """Your packs: the default pack first, then those you created or installed."""
    return {"packs": await svc.stickers.installed(caller.user_id)}


@router.post("/sticker-packs", tags=["stickers"], status_code=201)
async def create_pack(body: PackCreateBody, caller: Caller, svc: Svc) -> dict[str, Any]:
    """A new, empty pack of yours (installed for you)."""
    return await svc.stickers.do_create(caller.user_id, body.title)


@router.get("/sticker-packs/{pack_id}", tags=["stickers"])
async def get_pack(pack_id: PackId, caller: Caller, svc: Svc) -> dict[str, Any]:
    """A pack and its stickers (any pack: a pack id works like a link to it)."""
    return await svc.stickers.get(pack_id)


@router.post("/sticker-packs/{pack_id}/stickers", tags=["stickers"])
async def add_sticker(pack_id: PackId, body: StickerAddBody, caller: Caller,
                      svc: Svc) -> dict[str, Any]:
    """Add an upload of kind `sticker` to your pack."""
    return await svc.stickers.do_add(caller.user_id, pack_id, body.media_id, body.emoji)


@router.post("/sticker-packs/{pack_id}/install", tags=["stickers"], status_code=204)
async def install_pack(pack_id: PackId, caller: Caller, svc: Svc) -> Response:
    """Add the pack to your list."""
    await svc.stickers.do_install(caller.user_id, pack_id, install=True)
    return Response(status_code=204)


@router.delete("/sticker-packs/{pack_id}/install", tags=["stickers"], status_code=204)
async def uninstall_pack(pack_id: PackId, caller: Caller, svc: Svc) -> Response:
    """Take the pack off your list."""
    await svc.stickers.do_install(caller.user_id, pack_id, install=False)
    return Response(status_code=204)
