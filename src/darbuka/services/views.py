"""How stored rows look to clients. Absent optional fields are left out to save bytes."""

from __future__ import annotations

from typing import Any

import orjson

from darbuka.storage.rows import ChatRow, MessageRow, UserRow

__all__ = ["chat_view", "message_view", "poll_view", "public_user_view", "user_view"]


def message_view(row: MessageRow) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row["id"], "chat_id": row["chat_id"], "seq": row["seq"],
        "sender_id": row["sender_id"],
    }
    if row["client_id"] is not None:
        view["client_id"] = row["client_id"]
    if row["deleted"]:
        view["deleted"] = True
        if row["removed"]:
            view["removed"] = True  # by moderation, not by its author
        view["created_at"] = row["created_at"]
        return view
    if row["kind"] != "text":
        view["kind"] = row["kind"]
    view["text"] = row["text"]
    view["created_at"] = row["created_at"]
    if row["reply_to"] is not None:
        view["reply_to"] = row["reply_to"]
    if forward_of := row["forward_of"]:  # this and the others below are stored as JSON
        view["forward_of"] = orjson.loads(forward_of)
    if system := row["system"]:
        view["system"] = orjson.loads(system)
    if media := row["media"]:
        # An album: `media` is its first item, as a one-media message has it; `album` all.
        view["media"] = orjson.loads(media)
        if album := view["media"].pop("album", None):
            view["album"] = album
    if row["edited_at"] is not None:
        view["edited_at"] = row["edited_at"]
    if keyboard := row["keyboard"]:
        view["keyboard"] = orjson.loads(keyboard)
    if markup := row["markup"]:
        view["markup"] = orjson.loads(markup)
    if poll := row.get("poll"):
        view["poll"] = poll_view(orjson.loads(poll))
    return view


# What a poll's stored JSON shows everyone: not a quiz's answer (services/polls.py).
_POLL_SECRETS = ("correct", "explanation")


def poll_view(poll: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in poll.items() if k not in _POLL_SECRETS}


def chat_view(row: ChatRow) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row["id"], "kind": row["kind"], "title": row["title"],
        "description": row["description"], "owner_id": row["owner_id"],
        "public": bool(row["is_public"]), "member_count": row["member_count"],
        "last_seq": row["last_seq"], "created_at": row["created_at"],
    }
    if row.get("closed"):
        view["closed"] = True
    if row.get("handle"):
        view["handle"] = row["handle"]
    if row.get("sign_posts"):
        view["sign_posts"] = True
    if row.get("avatar"):
        view["avatar"] = row["avatar"]
    if row.get("pinned_message_id"):
        view["pinned_message_id"] = row["pinned_message_id"]
    if row.get("slow_mode_s"):
        view["slow_mode_s"] = row["slow_mode_s"]
    if row.get("join_approval"):
        view["join_approval"] = True
    return view


def public_user_view(row: UserRow) -> dict[str, Any]:
    view = {"id": row["id"], "display_name": row["display_name"], "username": row["username"],
            "about": row["about"], "kind": row["kind"]}
    if row.get("verified"):
        view["verified"] = True
    if row.get("avatar"):
        view["avatar"] = row["avatar"]
    return view


def user_view(row: UserRow) -> dict[str, Any]:
    """The signed-in user's own profile: includes the phone number and the staff role
    (user, moderator or operator), so a client knows which screens to offer."""
    return {**public_user_view(row), "phone": row["phone"], "created_at": row["created_at"],
            "role": row.get("role") or "user"}
