"""Bots: accounts, their update marker, webhook subscriptions and callback buttons.

A bot is a user of kind "bot" that signs in with a device token like anyone else; it is
kept out of the user API and the user kept out of the bot API by `AuthService`. Every
chat and message rule is the one users live by (ChatService, MessageService); this
service only adds what bots have on top.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import orjson

from darbuka.errors import BadRequest, NotFound
from darbuka.services.access import access_message, check_can_interact, message_for
from darbuka.services.auth import TOKEN_PREFIX, hash_token
from darbuka.services.views import message_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import UserRow

__all__ = ["MAX_PAYLOAD", "BotService"]

MAX_PAYLOAD = 1024
MAX_NAME = 64


class BotService:
    def __init__(self, db: Database, stores: Stores, writer: Writer) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        # Called after a subscription changes (the webhook sender re-reads them).
        self.on_subscriptions: list[Callable[[], None]] = []

    # -- accounts -------------------------------------------------------------------------

    async def do_create_bot(self, name: str, *, username: str | None = None,
                            ) -> tuple[str, UserRow]:
        """A new bot account; returns its token (shown once) and the user row."""
        if not name.strip() or len(name) > MAX_NAME:
            raise BadRequest(f"a bot's name is 1 to {MAX_NAME} characters", code="invalid_name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)

        async def create(tx: Tx) -> UserRow:
            user_id = await tx.stores.users.create(tx.conn, phone=None, now=tx.now,
                                                   display_name=name.strip(), kind="bot")
            if username:
                await tx.stores.users.update(tx.conn, user_id, {
                    "username": username, "username_key": username.lower()})
            await tx.stores.devices.create(tx.conn, user_id=user_id, name="bot",
                                           token_hash=hash_token(token), now=tx.now)
            # A new bot starts from now: it gets what happens after it was made.
            head = await tx.stores.events.head(tx.conn)
            await tx.stores.bots.create(tx.conn, user_id=user_id, marker=head, now=tx.now)
            user = await tx.stores.users.get(tx.conn, user_id)
            assert user is not None  # noqa: S101 - created in this transaction
            return user

        return token, await self._writer.run(create)

    async def get(self, bot_id: int) -> dict[str, Any]:
        async with self._db.read() as conn:
            bot = await self._stores.bots.get(conn, bot_id)
        if bot is None:
            raise NotFound("no such bot", code="bot_not_found")
        return bot

    async def do_edit(self, bot_id: int, values: dict[str, Any]) -> None:
        bot_values = {k: v for k, v in values.items() if k in ("description", "commands")}
        if "commands" in bot_values:
            bot_values["commands"] = orjson.dumps(bot_values["commands"]).decode()

        async def edit(tx: Tx) -> None:
            if "name" in values:
                await tx.stores.users.update(tx.conn, bot_id, {"display_name": values["name"]})
            if bot_values:
                await tx.stores.bots.update(tx.conn, bot_id, bot_values)

        await self._writer.run(edit)

    async def lookup(self, user_ids: set[int],
                     chat_ids: set[int]) -> tuple[dict[int, Any], dict[int, Any]]:
        """Users and chats by id, to describe updates. Callers only pass ids the bot saw."""
        async with self._db.read() as conn:
            users = await self._stores.users.by_ids(conn, user_ids)
            chats = {c: row for c in chat_ids
                     if (row := await self._stores.chats.get(conn, c)) is not None}
        return users, chats

    async def message(self, bot_id: int, message_id: int) -> dict[str, Any]:
        """A message by id alone, through the one door (the bot must be in its chat)."""
        async with self._db.read() as conn:
            row = await self._stores.messages.get(conn, message_id)
            if row is None:
                raise NotFound("no such message", code="message_not_found")
            _, message = await access_message(conn, self._stores, bot_id, row["chat_id"],
                                              message_id)
        if message["deleted"]:
            raise NotFound("no such message", code="message_not_found")
        return message_for(message_view(message), bot_id)

    # -- the marker -----------------------------------------------------------------------

    async def do_commit_marker(self, bot_id: int, marker: int) -> None:
        async def commit(tx: Tx) -> None:
            await tx.stores.bots.set_marker(tx.conn, bot_id, marker)

        await self._writer.run(commit)

    # -- webhooks -------------------------------------------------------------------------

    async def subscriptions(self, bot_id: int | None = None) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            return await self._stores.bots.subscriptions(conn, bot_id)

    async def do_subscribe(self, bot_id: int, url: str, update_types: list[str],
                           version: str) -> None:
        async def subscribe(tx: Tx) -> None:
            await tx.stores.bots.subscribe(tx.conn, bot_id=bot_id, url=url,
                                           update_types=orjson.dumps(update_types).decode(),
                                           version=version, now=tx.now)

        await self._writer.run(subscribe)
        self._changed()

    async def do_unsubscribe(self, bot_id: int, url: str) -> bool:
        async def unsubscribe(tx: Tx) -> bool:
            return await tx.stores.bots.unsubscribe(tx.conn, bot_id=bot_id, url=url)

        removed = await self._writer.run(unsubscribe)
        self._changed()
        return removed

    def _changed(self) -> None:
        for callback in self.on_subscriptions:
            callback()

    # -- callback buttons -----------------------------------------------------------------

    async def do_press(self, user_id: int, chat_id: int, message_id: int,
                       payload: Any) -> str:
        """A user pressed a callback button: the message's bot hears of it (only it)."""
        if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD:
            raise BadRequest("payload must be a button's payload", code="invalid_payload")
        callback_id = secrets.token_urlsafe(16)

        async def press(tx: Tx) -> str:
            access, message = await access_message(tx.conn, tx.stores, user_id, chat_id,
                                                   message_id)
            check_can_interact(access)
            buttons = [b for row in orjson.loads(message["keyboard"] or "[]") for b in row]
            if message["deleted"] or not any(b.get("type") == "callback"
                                             and b.get("payload") == payload for b in buttons):
                raise NotFound("this message has no such button", code="button_not_found")
            bot_id = message["sender_id"]
            await tx.stores.bots.add_callback(tx.conn, {
                "id": callback_id, "bot_id": bot_id, "user_id": user_id, "chat_id": chat_id,
                "message_id": message_id, "payload": payload, "created_at": tx.now})
            await tx.emit("bot.callback", {
                "callback_id": callback_id, "payload": payload, "user_id": user_id,
                "chat_id": chat_id, "message": message_view(message), "created_at": tx.now,
            }, user_id=bot_id)
            return callback_id

        return await self._writer.run(press)

    async def do_answer(self, bot_id: int, callback_id: str,
                        notification: str | None) -> dict[str, Any]:
        """The bot answers a press: a notification for the user who pressed."""
        async def answer(tx: Tx) -> dict[str, Any]:
            press = await tx.stores.bots.callback(tx.conn, callback_id)
            if press is None or press["bot_id"] != bot_id:
                raise NotFound("no such callback", code="callback_not_found")
            if notification is not None:
                await tx.emit("bot.answer", {
                    "callback_id": callback_id, "chat_id": press["chat_id"],
                    "message_id": press["message_id"], "notification": notification,
                }, user_id=press["user_id"])
            return press

        return await self._writer.run(answer)

