"""TamTam uploads: `POST /uploads?type=` gives an upload URL, the bot POSTs the file there
(multipart, field `data`) and gets a token to put in a message's attachments.

The URL carries a signed ticket (bot, type, media id, expiry; HMAC with the server
secret) instead of the bot's token, as TamTam's upload host does: clients POST to it
without credentials. The media id is chosen when the URL is made, so video and audio get
their token up front, as in TamTam. The file goes through the same type sniffing,
processing and limits as any upload.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import secrets
import time
from email.message import Message as EmailMessage
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from darbuka.adapters import Services
from darbuka.botapi.deps import Bot, Svc
from darbuka.errors import ApiError, BadRequest, Forbidden, NotFound
from darbuka.secret import load_secret

__all__ = ["TAM_TYPES", "uploads_router"]

uploads_router = APIRouter()
# TamTam upload type -> Darbuka media kind.
TAM_TYPES = {"image": "photo", "video": "video", "audio": "voice", "file": "file"}
TICKET_TTL_S = 3600


class TooLarge(ApiError):
    status = 413
    code = "too.large"


def _key(svc: Services) -> bytes:
    return hmac.new(load_secret(svc.settings), b"darbuka bot uploads v1",
                    hashlib.sha256).digest()


def _sign(svc: Services, payload: str) -> str:
    mac = hmac.new(_key(svc), payload.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=") + "." + \
        base64.urlsafe_b64encode(mac).decode()


def _verify(svc: Services, ticket: str) -> tuple[int, str, str]:
    """(bot id, type, media id) from a ticket; 403 if forged or expired."""
    body, _, mac = ticket.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise Forbidden("not an upload ticket", code="access.denied") from exc
    if not hmac.compare_digest(_sign(svc, payload).partition(".")[2], mac):
        raise Forbidden("not an upload ticket", code="access.denied")
    bot_id, kind, media_id, expires = payload.split(":")
    if int(expires) < time.time():
        raise Forbidden("the upload URL has expired; ask for a new one", code="access.denied")
    return int(bot_id), kind, media_id


@uploads_router.post("/uploads")
async def get_upload_url(request: Request, bot: Bot, svc: Svc,
                         type: Annotated[str, Query(max_length=16)] = "file") -> dict[str, Any]:
    if type not in TAM_TYPES:
        raise BadRequest("type is image, video, audio or file", code="proto.payload")
    media_id = secrets.token_urlsafe(16)
    ticket = _sign(svc, f"{bot.user_id}:{type}:{media_id}:{int(time.time()) + TICKET_TTL_S}")
    url = str(request.url_for("receive_upload", ticket=ticket))
    # TamTam hands out video and audio tokens with the URL; images and files get theirs
    # in the upload's answer.
    return {"url": url, "token": media_id} if type in ("video", "audio") else {"url": url}


@uploads_router.post("/uploads/{ticket}", name="receive_upload")
async def receive_upload(ticket: str, request: Request, svc: Svc) -> dict[str, Any]:
    bot_id, tam_type, media_id = _verify(svc, ticket)
    kind = TAM_TYPES[tam_type]
    limit = min(svc.uploads.limit_for(kind), svc.settings.bot_upload_max_bytes)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit + 64 * 1024:  # room for the multipart framing
            raise TooLarge(f"a {tam_type} is at most {limit} bytes")
    data, filename = _file_part(request.headers.get("content-type", ""), bytes(raw))
    if len(data) > limit:
        raise TooLarge(f"a {tam_type} is at most {limit} bytes")
    if await svc.media.exists(media_id):
        raise BadRequest("this upload URL was used already", code="proto.payload")
    await svc.media.do_ingest(data, kind, owner_id=bot_id, media_id=media_id,
                              filename=filename)
    await svc.media.wait_ready(bot_id, media_id)  # raises the processing error, if any
    if tam_type == "image":
        return {"photos": {"original": {"token": media_id}}}
    if tam_type == "file":
        return {"fileId": 0, "token": media_id}
    return {"token": media_id}


def _file_part(content_type: str, raw: bytes) -> tuple[bytes, str | None]:
    """The first file of a multipart/form-data body, or the whole body as the file."""
    if not content_type.lower().startswith("multipart/"):
        return raw, None
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    parts = parsed.get_payload() if parsed.is_multipart() else []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, EmailMessage):
            continue
        field = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if (field == "data" or part.get_filename()) and isinstance(payload, bytes):
            return payload, part.get_filename()
    raise BadRequest("send the file as multipart/form-data field 'data'", code="proto.payload")


@uploads_router.get("/media/{media_id}/{variant}")
async def download(media_id: str, variant: str, bot: Bot, svc: Svc) -> StreamingResponse:
    """A variant's bytes, for the URLs in Bot API attachments (the bot's token needed)."""
    row = await svc.media.access(bot.user_id, media_id)
    stored = svc.media.variant(row, variant)
    if stored is None:
        raise NotFound("no such variant", code="not.found")
    return StreamingResponse(await svc.media.open(str(stored["key"]), 0, int(stored["size"])),
                             media_type=stored["mime"],
                             headers={"Content-Length": str(stored["size"]),
                                      "X-Content-Type-Options": "nosniff"})
