"""Updates: the bot's view of the event stream, as TamTam `Update` objects.

A bot reads the same gap-free stream users sync from (only the chats it is in, only the
events meant for it), so updates come in order and none is skipped. The marker is a
stream position: passing it back commits everything up to it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from darbuka.adapters import Services
from darbuka.botapi.views import present, tam_message, tam_user
from darbuka.services.sync import SyncPage

__all__ = ["UPDATE_TYPES", "UpdateFeed"]

Json = dict[str, Any]
UPDATE_TYPES = ("message_created", "message_edited", "message_removed", "message_callback",
                "bot_added", "bot_removed", "user_added", "user_removed", "bot_started",
                "chat_title_changed")


class UpdateFeed:
    def __init__(self, svc: Services) -> None:
        self._svc = svc

    async def after(self, bot_id: int, marker: int, *, limit: int,
                    types: frozenset[str] | None = None,
                    first: SyncPage | None = None) -> tuple[list[Json], int]:
        """Up to `limit` updates after `marker`, and the marker to pass next (`first`: the
        page after `marker`, when the caller has read it already)."""
        updates: list[Json] = []
        pos = marker
        while True:
            page, first = first or await self._svc.sync.page(bot_id, pos), None
            for event_pos, update in await self._convert(bot_id, page.events):
                if update is not None and (types is None or update["update_type"] in types):
                    if len(updates) >= limit:
                        return updates, pos
                    updates.append(update)
                pos = event_pos
            if not page.more or len(updates) >= limit:
                return updates, pos

    async def wait(self, bot_id: int, marker: int, *, device_id: int | None, limit: int,
                   wait_s: float, types: frozenset[str] | None = None,
                   gone: Callable[[], Awaitable[bool]] | None = None,
                   ) -> tuple[list[Json], int]:
        """Long poll: the sync service's wait, until an event becomes an update for this bot
        (many events are none: its own messages, types it did not ask for).

        `device_id` is the token polling (None for a webhook); `gone` tells whether the
        caller hung up (see `SyncService.wait_page`).
        """
        deadline = time.monotonic() + wait_s
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            page = await self._svc.sync.wait_page(bot_id, marker, device_id=device_id,
                                                  wait_s=remaining, gone=gone)
            if not page.events:
                return [], marker  # the time ran out, or the caller left
            updates, marker = await self.after(bot_id, marker, limit=limit, types=types,
                                               first=page)
            if updates or time.monotonic() >= deadline:
                return updates, marker

    async def _convert(self, bot_id: int,
                       events: list[Json]) -> list[tuple[int, Json | None]]:
        user_ids: set[int] = set()
        chat_ids: set[int] = set()
        for event in events:
            message = event.get("message") or {}
            user_ids |= {v for v in (message.get("sender_id"), event.get("user_id"),
                                     event.get("by")) if isinstance(v, int)}
            chat = event.get("chat") or {}
            chat_ids |= {v for v in (message.get("chat_id"), event.get("chat_id"),
                                     chat.get("id")) if isinstance(v, int)}
        users, chats = await self._svc.bots.lookup(user_ids, chat_ids)
        for chat in chats.values():  # the other member of a dialog, for bot_started
            user_ids |= _direct_members(chat)
        if missing := user_ids - users.keys():
            users |= (await self._svc.bots.lookup(missing, set()))[0]
        now = int(time.time() * 1000)
        return [(int(e["cursor"]), _update(bot_id, e, users, chats, now)) for e in events]


def _direct_members(chat: Json) -> set[int]:
    key = chat.get("direct_key") or ""
    return {int(part) for part in key.split(":") if part.isdigit()}


def _update(bot_id: int, event: Json, users: dict[int, Json], chats: dict[int, Json],
            now: int) -> Json | None:
    kind = event["type"]
    message = event.get("message") or {}
    chat_id = message.get("chat_id") or event.get("chat_id") or (event.get("chat") or {}).get("id")
    chat = chats.get(chat_id or 0)
    is_channel = bool(chat and chat["kind"] == "channel")

    def user(user_id: Any) -> Json:
        return tam_user(users.get(user_id or 0), user_id)

    def make(update_type: str, timestamp: int = now, **body: Any) -> Json:
        return present(update_type=update_type, timestamp=timestamp, **body)

    if kind in ("message.new", "message.edited"):
        system = message.get("system")
        if system is not None:
            if system.get("action") == "chat.title_changed" and system.get("by") != bot_id:
                return make("chat_title_changed", message["created_at"], chat_id=chat_id,
                            user=user(system.get("by")), title=system.get("title"))
            return None
        if message.get("sender_id") == bot_id:
            return None  # a bot does not hear its own messages
        sender = users.get(message.get("sender_id") or 0)
        update_type = "message_created" if kind == "message.new" else "message_edited"
        return make(update_type, message.get("edited_at") or message["created_at"],
                    message=tam_message(message, sender, chat), user_locale=None)
    if kind == "message.deleted":
        return make("message_removed", message_id=str(message["id"]), chat_id=chat_id,
                    user_id=message.get("sender_id"))
    if kind == "bot.callback":
        sender = users.get(event["message"].get("sender_id") or 0)
        return make("message_callback", event["created_at"], callback={
            "timestamp": event["created_at"], "callback_id": event["callback_id"],
            "payload": event["payload"], "user": user(event["user_id"])},
            message=tam_message(event["message"], sender, chat), user_locale=None)
    if kind == "chat.created" and chat is not None:
        if chat["kind"] == "direct":
            others = _direct_members(chat) - {bot_id}
            return make("bot_started", chat_id=chat_id, user=user(min(others or {bot_id})),
                        payload=None, user_locale=None)
        return make("bot_added", chat_id=chat_id, user=user(chat["owner_id"]),
                    is_channel=is_channel)
    if kind in ("member.joined", "member.left"):
        member, by = event["user_id"], event.get("by")
        joined = kind == "member.joined"
        if member == bot_id:
            return make("bot_added" if joined else "bot_removed", chat_id=chat_id,
                        user=user(by), is_channel=is_channel)
        if joined:
            return make("user_added", chat_id=chat_id, user=user(member),
                        inviter_id=by if by != member else None, is_channel=is_channel)
        return make("user_removed", chat_id=chat_id, user=user(member),
                    admin_id=by if by != member else None, is_channel=is_channel)
    return None
