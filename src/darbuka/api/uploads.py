"""tus 1.0 resumable uploads under /api/v1/uploads/: core, creation, termination, expiration,
checksum. Written here on Starlette so that sign-in, quotas and limits are ours.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.requests import ClientDisconnect

from darbuka.api.deps import Caller, Svc
from darbuka.errors import ApiError, BadRequest
from darbuka.services.uploads import CHECKSUM_ALGORITHMS

__all__ = ["TUS_VERSION", "UploadId", "router"]

TUS_VERSION = "1.0.0"
router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])
UploadId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class PreconditionFailed(ApiError):
    status = 412
    code = "tus_version"


class WrongContentType(ApiError):
    status = 415
    code = "wrong_content_type"


def _headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, **extra}


def _check_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise PreconditionFailed(f"send Tus-Resumable: {TUS_VERSION}")


def _int_header(request: Request, name: str) -> int:
    raw = request.headers.get(name, "")
    if not raw.isdigit() or len(raw) > 19:
        raise BadRequest(f"{name} must be a non-negative integer", code="invalid_header")
    return int(raw)


def parse_metadata(raw: str) -> dict[str, str]:
    """`key base64value,key2 base64value2` (tus Upload-Metadata)."""
    meta: dict[str, str] = {}
    if len(raw) > 4096:
        raise BadRequest("Upload-Metadata is too long", code="invalid_metadata")
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = pair.partition(" ")
        try:
            meta[key] = base64.b64decode(value, validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(f"Upload-Metadata {key!r} is not base64 UTF-8",
                             code="invalid_metadata") from exc
    return meta


def _expires(ms: int | None) -> dict[str, str]:
    if ms is None:
        return {}
    return {"Upload-Expires": format_datetime(datetime.fromtimestamp(ms / 1000, UTC),
                                              usegmt=True)}


def _capabilities(svc: Svc) -> Response:
    return Response(status_code=204, headers=_headers(
        **{"Tus-Version": TUS_VERSION,
           "Tus-Extension": "creation,termination,expiration,checksum",
           "Tus-Max-Size": str(svc.uploads.max_size),
           "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS)}))


@router.options("/", status_code=204)
async def tus_options(svc: Svc) -> Response:
    """What this server speaks (no sign-in needed)."""
    return _capabilities(svc)


@router.options("/{upload_id}", status_code=204)
async def tus_options_of_upload(upload_id: UploadId, svc: Svc) -> Response:
    """The same, asked at an upload's address (tus clients may ask either)."""
    return _capabilities(svc)


@router.post("/", status_code=201)
async def create_upload(request: Request, caller: Caller, svc: Svc) -> Response:
    """Create an upload: `Upload-Length`, and `Upload-Metadata` with `kind` (photo, voice,
    video, sticker, file, avatar; default file) and `filename`."""
    _check_version(request)
    if "upload-defer-length" in request.headers:
        raise BadRequest("Upload-Defer-Length is not supported", code="invalid_header")
    length = _int_header(request, "upload-length")
    meta = parse_metadata(request.headers.get("upload-metadata", ""))
    row = await svc.uploads.do_create(caller.user_id, length, meta)
    return Response(status_code=201, headers=_headers(
        Location=f"/api/v1/uploads/{row['id']}", **_expires(row["expires_at"])))


@router.head("/{upload_id}")
async def upload_offset(upload_id: UploadId, request: Request, caller: Caller,
                        svc: Svc) -> Response:
    """Where to resume: `Upload-Offset` (bytes the server holds) and `Upload-Length`."""
    _check_version(request)
    row = await svc.uploads.get(caller.user_id, upload_id)
    return Response(status_code=200, headers=_headers(
        **{"Upload-Offset": str(row["received"]), "Upload-Length": str(row["length"]),
           "Cache-Control": "no-store"}, **_expires(row["expires_at"])))


@router.patch("/{upload_id}", status_code=204)
async def append_upload(upload_id: UploadId, request: Request, caller: Caller,
                        svc: Svc) -> Response:
    """Append the body at `Upload-Offset` (Content-Type application/offset+octet-stream);
    optional `Upload-Checksum: sha1 <base64>` for this body."""
    _check_version(request)
    if request.headers.get("content-type") != "application/offset+octet-stream":
        raise WrongContentType("use Content-Type: application/offset+octet-stream")
    offset = _int_header(request, "upload-offset")
    try:
        new_offset = await svc.uploads.do_append(
            caller.user_id, upload_id, offset, request.stream(),
            request.headers.get("upload-checksum"))
    except ClientDisconnect:
        # The link dropped: what arrived is kept; the client asks HEAD where to resume.
        return Response(status_code=400, headers=_headers())
    headers = _headers(**{"Upload-Offset": str(new_offset)})
    row = await svc.uploads.get(caller.user_id, upload_id)
    headers.update(_expires(row["expires_at"]))
    return Response(status_code=204, headers=headers)


@router.delete("/{upload_id}", status_code=204)
async def terminate_upload(upload_id: UploadId, request: Request, caller: Caller,
                           svc: Svc) -> Response:
    """Abandon an unfinished upload: its bytes are deleted."""
    _check_version(request)
    await svc.uploads.do_terminate(caller.user_id, upload_id)
    return Response(status_code=204, headers=_headers())
