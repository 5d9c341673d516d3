"""Bots: accounts, their update marker, webhook subscriptions and callback buttons.

A bot is a user of kind "bot" that signs in with a device token like anyone else; it is
kept out of the user API and the user kept out of the bot API by `AuthService`. Every
chat and message rule is the one users live by (ChatService, MessageService); this
service only adds what bots have on top.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from darbuka.errors import BadRequest, NotFound
from darbuka.services.access import access_message, check_can_interact, message_for
from darbuka.services.auth import TOKEN_PREFIX, hash_token, sign_out_devices
from darbuka.services.handles import normalise
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.targets import Target, check_target
from darbuka.services.text import clean_name
from darbuka.services.views import message_view, public_user_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import UserRow

__all__ = ["MAX_PAYLOAD", "WEBHOOK_JOB", "BotService", "Revoked", "queue_delivery"]

MAX_PAYLOAD = 1024
MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class Revoked:
    """What revoking a bot's tokens ended: the bot, its tokens, its webhook subscriptions."""

    bot: UserRow
    tokens: int
    webhooks: int


# The job that posts a bot's updates to its webhook, for as long as it is subscribed
# (`botapi/webhooks.py`): one per bot, so one process at a time delivers its updates.
WEBHOOK_JOB = "webhook.deliver"


async def queue_delivery(tx: Tx, bot_id: int) -> bool:
    """Make sure the bot's delivery job exists; waits for one that is winding up, which then
    sees this subscription and goes on (`still_subscribed`)."""
    return await tx.queue_job(WEBHOOK_JOB, f"webhook:{bot_id}", {"bot_id": bot_id},
                              lock_existing=True)


class BotService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, *, writes: WriteLimits,
                 allow_private_webhooks: bool = False) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        self._allow_private = allow_private_webhooks

    # -- accounts -------------------------------------------------------------------------

    async def do_create_bot(self, name: str, *, username: str | None = None,
                            ) -> tuple[str, UserRow]:
        """A new bot account; returns its token (shown once) and the user row."""
        name = clean_name(name)
        if not name or len(name) > MAX_NAME:
            raise BadRequest(f"a bot's name is 1 to {MAX_NAME} characters", code="invalid_name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)

        async def create(tx: Tx) -> UserRow:
            user_id = await tx.stores.users.create(tx.conn, phone=None, now=tx.now,
                                                   display_name=name, kind="bot")
            if username:
                await tx.stores.users.update(tx.conn, user_id, {
                    "username": username, "username_key": username.lower()})
            await tx.stores.devices.create(tx.conn, user_id=user_id, name="bot",
                                           token_hash=hash_token(token), now=tx.now)
            # A new bot starts from now: it gets what happens after it was made.
            # Past every position handed out: none of them can be the new bot's.
            head = await tx.stores.events.top(tx.conn)
            await tx.stores.bots.create(tx.conn, user_id=user_id, marker=head, now=tx.now)
            user = await tx.stores.users.get(tx.conn, user_id)
            assert user is not None  # noqa: S101 - created in this transaction
            return user

        return token, await self._writer.run(create)

    async def do_revoke(self, bot: str) -> Revoked:
        """Sign out every token of the bot (by id or @username): its long polls end with 401
        and its requests are refused. Its webhook goes too, and no update is posted to it
        any more. A new token (`do_rotate_token`) brings the bot back."""
        return await self._writer.run(lambda tx: self._revoke(tx, bot, reason="revoked"))

    async def do_rotate_token(self, bot: str) -> tuple[str, Revoked]:
        """A new token for the bot; every earlier one is signed out as by `do_revoke`, and
        its webhook dropped too: a leaked token may have pointed it anywhere, so the bot
        subscribes again with its new token. Returns the token (shown once)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)

        async def rotate(tx: Tx) -> Revoked:
            revoked = await self._revoke(tx, bot, reason="rotated")
            await tx.stores.devices.create(tx.conn, user_id=revoked.bot["id"], name="bot",
                                           token_hash=hash_token(token), now=tx.now)
            return revoked

        return token, await self._writer.run(rotate)

    @staticmethod
    async def _revoke(tx: Tx, bot: str, *, reason: str) -> Revoked:
        user = await _find_bot(tx, bot)
        devices = await tx.stores.devices.for_user(tx.conn, user["id"])
        tokens = await sign_out_devices(tx, user["id"], [d["id"] for d in devices],
                                        reason=reason)
        webhooks = await tx.stores.bots.unsubscribe_all(tx.conn, bot_id=user["id"])
        return Revoked(user, len(tokens), webhooks)

    async def get(self, bot_id: int) -> dict[str, Any]:
        async with self._db.read() as conn:
            bot = await self._stores.bots.get(conn, bot_id)
        if bot is None:
            raise NotFound("no such bot", code="bot_not_found")
        return bot

    async def do_edit(self, bot_id: int, values: dict[str, Any]) -> None:
        await self._writes.check("other", bot_id)
        name = clean_name(values["name"]) if "name" in values else None
        if name == "":
            raise BadRequest(f"a bot's name is 1 to {MAX_NAME} characters", code="invalid_name")
        bot_values = {k: v for k, v in values.items() if k in ("description", "commands")}
        if "commands" in bot_values:
            bot_values["commands"] = orjson.dumps(bot_values["commands"]).decode()

        async def edit(tx: Tx) -> None:
            if name is not None:
                await tx.stores.users.update(tx.conn, bot_id, {"display_name": name})
                if (row := await tx.stores.users.get(tx.conn, bot_id)) is not None:
                    # As for a person's new name: whoever shows the bot shows the new one.
                    await tx.emit("user.updated", {"user": public_user_view(row)},
                                  user_id=bot_id)
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
        await self._writes.check("marks", bot_id)
        async def commit(tx: Tx) -> None:
            await tx.stores.bots.set_marker(tx.conn, bot_id, marker)

        await self._writer.run(commit)

    # -- webhooks -------------------------------------------------------------------------

    async def subscriptions(self, bot_id: int | None = None) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            return await self._stores.bots.subscriptions(conn, bot_id)

    async def webhook_target(self, url: str) -> Target:
        """Where a webhook may be sent (checked when a bot subscribes and again before each
        delivery: a name can be made to resolve elsewhere later)."""
        return await check_target(url, allow_private=self._allow_private, code="invalid.url")

    async def is_subscribed(self, bot_id: int, url: str) -> bool:
        """Whether the bot's webhook still goes to `url` (asked before each delivery: the
        subscription may have been dropped by another process, or the bot revoked)."""
        return any(s["url"] == url for s in await self.subscriptions(bot_id))

    async def do_subscribe(self, bot_id: int, url: str, update_types: list[str],
                           version: str) -> None:
        await self._writes.check("other", bot_id)
        await self.webhook_target(url)

        async def subscribe(tx: Tx) -> None:
            await tx.stores.bots.subscribe(tx.conn, bot_id=bot_id, url=url,
                                           update_types=orjson.dumps(update_types).decode(),
                                           version=version, now=tx.now)
            await queue_delivery(tx, bot_id)

        await self._writer.run(subscribe)

    async def do_unsubscribe(self, bot_id: int, url: str) -> bool:
        await self._writes.check("other", bot_id)
        async def unsubscribe(tx: Tx) -> bool:
            return await tx.stores.bots.unsubscribe(tx.conn, bot_id=bot_id, url=url)

        return await self._writer.run(unsubscribe)

    async def still_subscribed(self, conn: Conn, payload: dict[str, Any]) -> bool:
        """Whether a bot's delivery job, about to end, must go on (in its last transaction,
        which `queue_delivery` of a new subscription waits for)."""
        return bool(await self._stores.bots.subscriptions(conn, int(payload["bot_id"])))

    async def do_queue_deliveries(self) -> int:
        """A delivery job for every subscription that has none (at start: subscriptions
        made before deliveries were jobs)."""
        async def queue(tx: Tx) -> int:
            bots = {s["bot_id"] for s in await tx.stores.bots.subscriptions(tx.conn)}
            return sum([await queue_delivery(tx, bot_id) for bot_id in sorted(bots)])

        return await self._writer.run(queue)

    # -- callback buttons -----------------------------------------------------------------

    async def do_press(self, user_id: int, chat_id: int, message_id: int,
                       payload: Any) -> str:
        """A user pressed a callback button: the message's bot hears of it (only it)."""
        await self._writes.check("other", user_id)
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
        await self._writes.check("other", bot_id)
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



async def _find_bot(tx: Tx, bot: str) -> UserRow:
    """A bot by its id or its @username."""
    ref = bot.strip()
    if ref.isdigit():
        user = await tx.stores.users.get(tx.conn, int(ref)) if len(ref) < 19 else None
    else:
        user = await tx.stores.users.by_username_key(tx.conn, normalise(ref))
    if user is None or user["kind"] != "bot":
        raise NotFound(f"no bot is {bot!r}", code="bot_not_found")
    return user
