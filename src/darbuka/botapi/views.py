"""Darbuka's rows and views in the shapes of TamTam Bot API 0.5.6 (times in ms).

Users carry both TamTam's `name` and MAX's `first_name`, so clients of either flavour
read them. Message ids (`mid`) are the decimal message id as a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CHAT_TYPES", "bot_info", "tam_chat", "tam_keyboard", "tam_media", "tam_message",
           "tam_user"]

Json = dict[str, Any]
CHAT_TYPES = {"direct": "dialog", "group": "chat", "channel": "channel"}


def tam_user(row: Mapping[str, Any] | None, user_id: int | None = None) -> Json:
    if row is None:
        return {"user_id": user_id or 0, "name": "", "first_name": "", "last_name": None,
                "username": None, "is_bot": False, "last_activity_time": 0}
    name = row.get("display_name") or row.get("username") or f"user {row['id']}"
    return {"user_id": row["id"], "name": name, "first_name": name, "last_name": None,
            "username": row.get("username"), "is_bot": row.get("kind") == "bot",
            "last_activity_time": row.get("created_at", 0)}


def bot_info(user: Mapping[str, Any], bot: Json, commands: list[Json]) -> Json:
    return {**tam_user(user), "description": bot.get("description") or None,
            "avatar_url": None, "full_avatar_url": None, "commands": commands or None}


def tam_chat(chat: Mapping[str, Any]) -> Json:
    """`chat` is a chat view (`id`, `kind`, ...) or a chats row (`is_public`)."""
    return {
        "chat_id": chat["id"], "type": CHAT_TYPES.get(chat["kind"], "chat"), "status": "active",
        "title": chat.get("title") or None, "icon": None,
        "last_event_time": chat.get("created_at", 0),
        "participants_count": chat.get("member_count", 0), "owner_id": chat.get("owner_id"),
        "participants": None, "is_public": bool(chat.get("public", chat.get("is_public"))),
        "link": None, "description": chat.get("description") or None,
        "dialog_with_user": None, "messages_count": None, "chat_message_id": None,
        "pinned_message": None,
    }


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
                  "attachments": attachments, "markup": []}
    message: Json = {
        "sender": tam_user(sender, view.get("sender_id")) if view.get("sender_id") else None,
        "recipient": {"chat_id": view["chat_id"],
                      "chat_type": CHAT_TYPES.get(chat["kind"] if chat else "group", "chat"),
                      "user_id": None},
        "timestamp": view.get("created_at", 0), "link": None, "body": body, "stat": None,
        "url": None,
    }
    if view.get("reply_to"):
        message["link"] = {"type": "reply", "sender": None, "chat_id": view["chat_id"],
                           "message": {"mid": str(view["reply_to"]), "seq": 0, "text": None,
                                       "attachments": None, "markup": None}}
    return message
