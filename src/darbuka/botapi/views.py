"""Darbuka's rows and views in the shapes of TamTam Bot API 0.5.6 (times in ms).

As the real servers do, an optional field without a value is left out, never sent as
`null`: a library that reads `message.get("stat", {})` or `body.get("markup", [])` gets its
default, not a None it cannot index. Users carry both TamTam's `name` and MAX's
`first_name`, so clients of either flavour read them. Message ids (`mid`) are the decimal
message id as a string; chat and user ids are integers; times are integer milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CHAT_TYPES", "bot_info", "present", "tam_chat", "tam_keyboard", "tam_markup",
           "tam_media", "tam_message", "tam_user"]

Json = dict[str, Any]
CHAT_TYPES = {"direct": "dialog", "group": "chat", "channel": "channel"}
# Darbuka markup types TamTam has no name for, as the nearest it has.
_MARKUP_TYPES = {"code_block": "monospaced"}


def present(**fields: Any) -> Json:
    """An object of the given fields that have a value: the one place nulls are dropped."""
    return {k: v for k, v in fields.items() if v is not None}


def tam_user(row: Mapping[str, Any] | None, user_id: int | None = None) -> Json:
    if row is None:
        return {"user_id": user_id or 0, "name": "", "first_name": "", "is_bot": False,
                "last_activity_time": 0}
    name = row.get("display_name") or row.get("username") or f"user {row['id']}"
    return present(user_id=row["id"], name=name, first_name=name,
                   username=row.get("username") or None, is_bot=row.get("kind") == "bot",
                   last_activity_time=row.get("created_at", 0))


def bot_info(user: Mapping[str, Any], bot: Json, commands: list[Json]) -> Json:
    return {**tam_user(user), **present(description=bot.get("description") or None,
                                        commands=commands or None)}


def tam_chat(chat: Mapping[str, Any]) -> Json:
    """`chat` is a chat view (`id`, `kind`, ...) or a chats row (`is_public`)."""
    handle = chat.get("handle")
    return present(
        chat_id=chat["id"], type=CHAT_TYPES.get(chat["kind"], "chat"), status="active",
        title=chat.get("title") or None, last_event_time=chat.get("created_at", 0),
        participants_count=chat.get("member_count", 0), owner_id=chat.get("owner_id"),
        is_public=bool(chat.get("public", chat.get("is_public"))),
        link=f"@{handle}" if handle else None, description=chat.get("description") or None)


def tam_keyboard(rows: list[list[Json]]) -> Json:
    return {"type": "inline_keyboard", "payload": {"buttons": rows}}


# Darbuka media kind -> TamTam attachment type.
ATTACHMENT_TYPES = {"photo": "image", "video": "video", "voice": "audio", "file": "file",
                    "sticker": "sticker"}


def tam_media(media: Json) -> Json:
    """A message's media as a TamTam attachment; `payload.url` is a path on this server
    under /botapi (fetch it with the bot's token), `payload.token` sends it again."""
    kind = str(media.get("kind"))
    variants = media.get("variants") or []
    variant = "original" if "original" in variants else (variants[0] if variants else "original")
    payload: Json = {"url": f"/botapi/media/{media['id']}/{variant}", "token": media["id"]}
    attachment: Json = {"type": ATTACHMENT_TYPES.get(kind, "file"), "payload": payload}
    if kind == "photo":
        payload["photo_id"] = 0
        attachment |= {"width": media.get("width"), "height": media.get("height")}
    if kind == "file":
        attachment |= {"filename": media.get("name") or "file", "size": media.get("size", 0)}
    if kind == "sticker":
        payload["code"] = media["id"]
    return attachment


def tam_message(view: Json, sender: Mapping[str, Any] | None,
                chat: Mapping[str, Any] | None) -> Json:
    """A message view as a TamTam `Message`; `chat` gives the recipient's chat type."""
    attachments = [tam_keyboard(view["keyboard"])] if view.get("keyboard") else []
    if isinstance(view.get("media"), dict):
        attachments.insert(0, tam_media(view["media"]))
    body: Json = {"mid": str(view["id"]), "seq": view["seq"], "text": view.get("text", ""),
                  "attachments": attachments, "markup": tam_markup(view.get("markup") or [])}
    return present(
        sender=tam_user(sender, view.get("sender_id")) if view.get("sender_id") else None,
        recipient={"chat_id": view["chat_id"],
                   "chat_type": CHAT_TYPES.get(chat["kind"] if chat else "group", "chat")},
        timestamp=view.get("created_at", 0), body=body,
        link={"type": "reply", "chat_id": view["chat_id"],
              "message": {"mid": str(view["reply_to"]), "seq": 0, "attachments": [],
                          "markup": []}} if view.get("reply_to") else None)


def tam_markup(markup: list[Json]) -> list[Json]:
    """Darbuka markup as TamTam `MarkupElement`s: the same offsets (UTF-16 code units);
    a mention names its user by `user_id`."""
    return [{**m, "type": _MARKUP_TYPES.get(m["type"], m["type"])} for m in markup]
