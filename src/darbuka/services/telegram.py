"""Reading a Telegram Desktop export of one chat ("machine-readable JSON": `result.json`
beside its `photos/`, `files/`, `voice_messages/` … folders) into plain values the importer
(`services/imports.py`) stores. Nothing here touches the database.

Telegram keeps a message's formatting as a list of pieces, each a string or an entity
`{"type", "text", …}` (and, in newer exports, the same again as `text_entities`). The pieces
are joined into the text, and the entities that have a Darbuka range become markup
(`darbuka.markup`); the rest (hashtags, spoilers, custom emoji …) stay plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from darbuka.errors import BadRequest

__all__ = ["TgChat", "TgMedia", "TgMessage", "entity_markup", "read_export"]

# Telegram's entity type -> the Darbuka range it becomes.
_STYLES = {"bold": "strong", "italic": "emphasized", "underline": "underline",
           "strikethrough": "strikethrough", "code": "monospaced", "pre": "code_block"}
# A file's `media_type` -> the kind of Darbuka media it becomes.
_MEDIA_KINDS = {"voice_message": "voice", "video_file": "video", "video_message": "video",
                "animation": "video", "audio_file": "file"}


@dataclass(frozen=True, slots=True)
class TgMedia:
    kind: str  # photo, voice, video or file
    path: Path | None  # None: the export left the file out (`missing` says why)
    filename: str | None = None
    missing: str | None = None


@dataclass(frozen=True, slots=True)
class TgMessage:
    id: int
    date_ms: int
    author: str | None  # the author's id in Telegram ("user42"), None for service notes
    author_name: str
    text: str
    # Ranges in code points; mentions carry `username` or `author` until resolved.
    markup: list[dict[str, Any]] = field(default_factory=list)
    media: TgMedia | None = None
    reply_to: int | None = None
    edited_ms: int | None = None
    service: bool = False
    skipped: str | None = None  # why this message cannot be imported (a sticker, a poll)


@dataclass(frozen=True, slots=True)
class TgChat:
    source: str  # "telegram:<the chat's id>"
    name: str
    type: str
    messages: list[TgMessage]


def read_export(folder: Path) -> TgChat:
    """The export in `folder`; BadRequest naming what is wrong with it."""
    path = folder / "result.json"
    if not path.is_file():
        raise BadRequest(f"{path}: no result.json here (export the chat as "
                         "machine-readable JSON)", code="not_an_export")
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"{path}: not JSON ({err})", code="not_an_export") from None
    if not isinstance(data, dict) or "chats" in data:
        raise BadRequest(f"{path}: not the export of one chat (export a single chat from "
                         "its menu, not the whole account)", code="not_an_export")
    if not isinstance(data.get("messages"), list) or not isinstance(data.get("id"), int):
        raise BadRequest(f"{path}: no chat id or messages in it", code="not_an_export")
    root = folder.resolve()
    messages = [_message(raw, root) for raw in data["messages"] if isinstance(raw, dict)
                and isinstance(raw.get("id"), int)]
    messages.sort(key=lambda m: m.id)
    name = str(data.get("name") or "") or "Telegram chat"
    return TgChat(f"telegram:{data['id']}", name, str(data.get("type", "")), messages)


def _message(raw: dict[str, Any], root: Path) -> TgMessage:
    text, markup = entity_markup(raw.get("text_entities", raw.get("text", "")))
    service = raw.get("type") != "message"
    media, skipped = (None, None) if service else _media(raw, root)
    reply = raw.get("reply_to_message_id")
    author = raw.get("from_id") if isinstance(raw.get("from_id"), str) else None
    return TgMessage(
        id=raw["id"], date_ms=_time_ms(raw, "date"), author=None if service else author,
        author_name=str(raw.get("from") or "Deleted Account"), text=text, markup=markup,
        media=media, reply_to=reply if isinstance(reply, int) else None,
        edited_ms=_time_ms(raw, "edited") if raw.get("edited") else None,
        service=service, skipped=skipped)


def _time_ms(raw: dict[str, Any], name: str) -> int:
    """`<name>_unixtime` (newer exports); else `<name>`, a local time without a zone, read
    as UTC."""
    unix = raw.get(f"{name}_unixtime")
    if isinstance(unix, str | int) and str(unix).isdigit():
        return int(unix) * 1000
    try:
        when = datetime.fromisoformat(str(raw.get(name))).replace(tzinfo=UTC)
    except ValueError:
        return 0
    return int(when.timestamp() * 1000)


def entity_markup(pieces: Any) -> tuple[str, list[dict[str, Any]]]:
    """The text of Telegram's pieces and its markup (offsets in code points)."""
    if isinstance(pieces, str):
        return pieces, []
    text: list[str] = []
    markup: list[dict[str, Any]] = []
    at = 0
    for piece in pieces if isinstance(pieces, list) else []:
        part = piece if isinstance(piece, str) else str(piece.get("text", "")) \
            if isinstance(piece, dict) else ""
        if isinstance(piece, dict) and part and (found := _range(piece, part)):
            markup.append({**found, "from": at, "length": len(part)})
        text.append(part)
        at += len(part)
    joined = "".join(text)
    return joined, [_fit_block(joined, m) for m in markup]


def _range(entity: dict[str, Any], part: str) -> dict[str, Any] | None:
    kind = entity.get("type")
    if kind in _STYLES:
        return {"type": _STYLES[kind]}
    if kind == "text_link" and isinstance(entity.get("href"), str):
        return {"type": "link", "url": entity["href"]}
    if kind == "link":
        url = part if "://" in part else f"https://{part}"
        return {"type": "link", "url": url}
    if kind == "mention" and part.startswith("@"):
        return {"type": "user_mention", "username": part[1:]}
    if kind == "mention_name" and entity.get("user_id") is not None:
        return {"type": "user_mention", "author": f"user{entity['user_id']}"}
    return None


def _fit_block(text: str, item: dict[str, Any]) -> dict[str, Any]:
    """A `pre` that does not cover whole lines is shown as inline code instead."""
    if item["type"] != "code_block":
        return item
    start, end = item["from"], item["from"] + item["length"]
    whole = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    return item if whole else {**item, "type": "monospaced"}


def _media(raw: dict[str, Any], root: Path) -> tuple[TgMedia | None, str | None]:
    if isinstance(raw.get("photo"), str):
        return _file("photo", raw["photo"], root, None), None
    if "poll" in raw or "location_information" in raw or "contact_information" in raw:
        return None, "a poll, place or contact card"
    if not isinstance(raw.get("file"), str):
        return None, None
    media_type = raw.get("media_type")
    if media_type == "sticker":
        return None, "a sticker"
    kind = _MEDIA_KINDS.get(str(media_type), "file")
    name = raw.get("file_name") if isinstance(raw.get("file_name"), str) else None
    return _file(kind, raw["file"], root, name), None


def _file(kind: str, relative: str, root: Path, name: str | None) -> TgMedia:
    if relative.startswith("("):  # "(File not included. Change data exporting settings…)"
        return TgMedia(kind, None, name, missing=relative.strip("()"))
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        return TgMedia(kind, None, name, missing=f"{relative} is outside the export folder")
    if not path.is_file():
        return TgMedia(kind, None, name, missing=f"{relative} is not in the export folder")
    return TgMedia(kind, path, name or path.name)
