"""Reading a TamTam `NewMessageBody` into what MessageService takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from darbuka.botapi.deps import parse_id
from darbuka.botapi.formats import parse_formatted
from darbuka.errors import BadRequest

__all__ = ["NewMessage", "check_new_message"]

MAX_TEXT = 4000
# TamTam attachment type -> Darbuka media kind (the same as /uploads types).
MEDIA_TYPES = {"image": "photo", "video": "video", "audio": "voice", "file": "file"}
BUTTON_TYPES = frozenset({"callback", "link", "request_contact", "request_geo_location",
                          "chat", "message", "open_app"})


@dataclass(frozen=True, slots=True)
class NewMessage:
    text: str | None
    # JSON of the keyboard rows; "" removes a keyboard on edit; None leaves it as it is.
    keyboard: str | None
    reply_to: int | None = None
    forward_of: int | None = None
    media_id: str | None = None   # an upload token from /uploads
    kind: str | None = None       # the Darbuka media kind for it
    # Ranges over `text` from `format` (markdown or html); None when text is not given.
    markup: list[dict[str, Any]] | None = None


def check_new_message(body: Any) -> NewMessage:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a NewMessageBody object", code="proto.payload")
    text = body.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        raise BadRequest(f"text must be at most {MAX_TEXT} characters", code="proto.payload")
    markup = None
    if text is not None:
        text, markup = parse_formatted(text, body.get("format"))
    if not isinstance(body.get("notify", True), bool):
        # MAX's `notify: false` sends without a notification; Darbuka pushes none for bots'
        # messages, so every message is already quiet and the flag is only checked.
        raise BadRequest("notify must be true or false", code="proto.payload")
    keyboard, media = _check_attachments(body.get("attachments"))
    reply_to = forward_of = None
    link = body.get("link")
    if isinstance(link, dict):
        mid = parse_id(link.get("mid"), "link.mid")
        if link.get("type") == "forward":
            forward_of = mid
        elif link.get("type") == "reply":
            reply_to = mid
        else:
            raise BadRequest("link.type is reply or forward", code="proto.payload")
    return NewMessage(text, keyboard, reply_to, forward_of, *media, markup=markup)


def _check_attachments(attachments: Any) -> tuple[str | None, tuple[str | None, str | None]]:
    """(keyboard JSON, (media token, kind)) from a TamTam attachments list."""
    if attachments is None:
        return None, (None, None)
    if not isinstance(attachments, list):
        raise BadRequest("attachments must be a list", code="proto.payload")
    keyboard: list[list[dict[str, Any]]] = []
    media: tuple[str | None, str | None] = (None, None)
    for attachment in attachments:
        kind = attachment.get("type") if isinstance(attachment, dict) else None
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        if kind == "inline_keyboard":
            keyboard += _check_buttons((payload or {}).get("buttons"))
        elif kind in MEDIA_TYPES:
            token = payload.get("token") if isinstance(payload, dict) else None
            if not isinstance(token, str) or not 0 < len(token) <= 32:
                raise BadRequest("a media attachment needs payload.token from /uploads",
                                 code="proto.payload")
            if media[0] is not None:
                # A Darbuka message carries one media; send the others as more messages.
                raise BadRequest("one media attachment per message",
                                 code="attachment.not.supported")
            media = (token, MEDIA_TYPES[kind])
        else:
            raise BadRequest(f"attachments of type {kind!r} are not supported",
                             code="attachment.not.supported")
    return (orjson.dumps(keyboard).decode() if keyboard else ""), media


def _check_buttons(rows: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise BadRequest("buttons must be a list of rows", code="proto.payload")
    checked = []
    for row in rows:
        out = []
        for button in row:
            if not isinstance(button, dict) or button.get("type") not in BUTTON_TYPES:
                raise BadRequest("unknown button type", code="proto.payload")
            text = button.get("text")
            if not isinstance(text, str) or not 0 < len(text) <= 128:
                raise BadRequest("a button's text is 1 to 128 characters", code="proto.payload")
            payload = button.get("payload")
            if payload is not None and (not isinstance(payload, str) or len(payload) > 1024):
                raise BadRequest("a button's payload is at most 1024 characters",
                                 code="proto.payload")
            url = button.get("url")
            if url is not None and (not isinstance(url, str) or len(url) > 2048):
                raise BadRequest("a button's url is at most 2048 characters",
                                 code="proto.payload")
            out.append({k: v for k, v in button.items()
                        if k in ("type", "text", "payload", "url", "intent") and v is not None})
        checked.append(out)
    return checked
