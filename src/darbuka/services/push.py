"""Web Push: browsers' subscriptions, and the job that tells a person who is away.

A message (or a mention) for someone with a subscription queues a job in the send's own
transaction, keyed by person and chat and run a moment later (`COALESCE_MS`), so that a
burst of messages collapses into the one job already queued, which sends the chat's state
as it then is: the last message, its sender, the unread count. Each push names its chat in
the `Topic` header, so the push service keeps only the newest for a device that is away.
A job that finishes while more came in runs again (`still_needed`). Nothing goes to someone
online anywhere in the cluster (presence), nor for a chat they muted (unless it mentions
them and they let mentions through). A read on any device closes a notification that
shows, with a push of its own. 404/410 deletes the subscription; other failures retry the
job with backoff.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

import orjson

from darbuka.clock import Clock
from darbuka.errors import BadRequest, NotFound
from darbuka.services.jobs import RetryLater
from darbuka.services.mentions import MENTION
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.webpush import (
    MAX_BODY,
    OVERHEAD,
    Outcome,
    PushKey,
    PushSender,
    Subscription,
    check_keys,
)
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import MessageRow

__all__ = ["PUSH_JOB", "Muted", "PushFailed", "PushService", "queue_action_push",
           "queue_close_push", "queue_message_pushes", "queue_reaction_push"]

PUSH_JOB = "push.deliver"
# How long a push waits for the rest of a burst: its messages go out as one notification.
COALESCE_MS = 250
# A chat's notification is updated at most this often: a long burst (or a lively group)
# is one notification and one update, not a buzz per message.
MIN_INTERVAL_MS = 3_000
PREVIEW_CHARS = 200
NO_PREVIEW = "New message"
# Events that ask the person to do something (a call to action), and what the
# notification says of them. The job's note names the action and who it is from.
ACTIONS = {"join_request": "asks to join"}
MAX_ENDPOINT = 2048


class MuteAnswer(Protocol):
    @property
    def mentions(self) -> bool:
        """Mentions of the person still notify."""
        ...


# (chat, users, at ms) -> the users who have the chat muted at that time.
Muted = Callable[[int, list[int], int], Awaitable[Mapping[int, MuteAnswer]]]
Online = Callable[[Iterable[int]], Awaitable[set[int]]]


class PushFailed(Exception):
    """A push service did not take a push: the job is tried again with backoff."""


def wall_ms() -> int:
    """The job queue's time (the machine's own, as `Tx.queue_job` takes it)."""
    return time.time_ns() // 1_000_000


def _key(user_id: int, chat_id: int) -> str:
    return f"push:{user_id}:{chat_id}"


async def _queue(tx: Tx, user_id: int, chat_id: int, delay_ms: int) -> None:
    await tx.queue_job(PUSH_JOB, _key(user_id, chat_id),
                       {"user_id": user_id, "chat_id": chat_id}, delay_ms=delay_ms)


async def queue_message_pushes(tx: Tx, rows: list[MessageRow]) -> None:
    """In the send's transaction: a push job for every member with a subscription who got
    a message from someone else (one query per batch; none queued twice per key)."""
    others = {(row["chat_id"], row["sender_id"]) for row in rows}
    recipients = await tx.stores.push.recipients(tx.conn, {c for c, _ in others})
    now = wall_ms()
    for (user_id, chat_id), sent_at in sorted(recipients.items()):
        if any(c == chat_id and sender != user_id for c, sender in others):
            await _queue(tx, user_id, chat_id,
                         max(COALESCE_MS, sent_at + MIN_INTERVAL_MS - now))


async def queue_reaction_push(tx: Tx, author_id: int, chat_id: int, by: int,
                              emoji: str) -> None:
    """In a reaction's transaction: the author of the message hears of it (the chat's
    notification, or one of its own when nothing is unread)."""
    if author_id == by:
        return
    reaction = orjson.dumps({"by": by, "emoji": emoji}).decode()
    sent_at = await tx.stores.push.note_reaction(tx.conn, user_id=author_id, chat_id=chat_id,
                                                 reaction=reaction)
    if sent_at is not None:
        await _queue(tx, author_id, chat_id,
                     max(COALESCE_MS, sent_at + MIN_INTERVAL_MS - wall_ms()))


async def queue_action_push(tx: Tx, user_id: int, chat_id: int, by: int,
                            action: str) -> None:
    """In the transaction that asks `user_id` to act in `chat_id` (someone asks to join a
    chat they run): they hear of it, as of a reaction, on the chat's own notification."""
    note = orjson.dumps({"by": by, "action": action}).decode()
    sent_at = await tx.stores.push.note_reaction(tx.conn, user_id=user_id, chat_id=chat_id,
                                                 reaction=note)
    if sent_at is not None:
        await _queue(tx, user_id, chat_id,
                     max(COALESCE_MS, sent_at + MIN_INTERVAL_MS - wall_ms()))


async def queue_close_push(tx: Tx, user_id: int, chat_id: int) -> None:
    """In a read's transaction: a notification of this chat that shows gets closed."""
    notice = await tx.stores.push.notice(tx.conn, user_id, chat_id)
    if notice is not None and notice["shown"]:
        await _queue(tx, user_id, chat_id, 0)


def _fit(body: dict[str, Any]) -> bytes:
    """The payload as JSON, its preview shortened until it fits one small push."""
    while True:
        plain = orjson.dumps(body)
        if len(plain) + OVERHEAD <= MAX_BODY or not body.get("preview"):
            return plain
        body["preview"] = body["preview"][: len(body["preview"]) * 3 // 4]


class PushService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 key: PushKey, sender: PushSender, *, online: Online, muted: Muted,
                 writes: WriteLimits) -> None:
        self._db = db
        self._clock = clock
        self._stores = stores
        self._writer = writer
        self._key = key
        self._sender = sender
        self._online = online
        self._muted = muted
        self._writes = writes
        # Pushes the push services took, and subscriptions they said were gone.
        self.sent = 0
        self.gone = 0

    @property
    def public_key(self) -> str:
        return self._key.public_key

    async def stop(self) -> None:
        await self._sender.aclose()

    # -- subscriptions ------------------------------------------------------------------

    async def do_subscribe(self, user_id: int, device_id: int, endpoint: Any, keys: Any, *,
                           previews: Any = True) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        if not isinstance(endpoint, str) or not 1 <= len(endpoint) <= MAX_ENDPOINT:
            raise BadRequest("endpoint must be a URL", code="invalid_endpoint")
        if not isinstance(keys, dict):
            raise BadRequest("keys must hold p256dh and auth", code="invalid_keys")
        if not isinstance(previews, bool):
            raise BadRequest("previews must be true or false", code="invalid_previews")
        p256dh, auth = check_keys(keys.get("p256dh"), keys.get("auth"))
        await self._sender.check(endpoint)

        async def subscribe(tx: Tx) -> None:
            await tx.stores.push.subscribe(tx.conn, user_id=user_id, device_id=device_id,
                                           endpoint=endpoint, p256dh=p256dh, auth=auth,
                                           previews=previews, now=tx.now)

        await self._writer.run(subscribe)
        return {"endpoint": endpoint, "previews": previews}

    async def do_unsubscribe(self, user_id: int, endpoint: Any) -> None:
        await self._writes.check("other", user_id)
        if not isinstance(endpoint, str):
            raise BadRequest("endpoint must be a URL", code="invalid_endpoint")

        async def unsubscribe(tx: Tx) -> bool:
            return await tx.stores.push.unsubscribe(tx.conn, user_id=user_id,
                                                    endpoint=endpoint)

        if not await self._writer.run(unsubscribe):
            raise NotFound("no such subscription", code="subscription_not_found")

    async def subscriptions(self, user_id: int, device_id: int) -> list[dict[str, Any]]:
        """This device's subscriptions (what the settings screen shows)."""
        async with self._db.read() as conn:
            rows = await self._stores.push.for_user(conn, user_id)
        return [{"endpoint": r["endpoint"], "previews": r["previews"],
                 "created_at": r["created_at"]} for r in rows if r["device_id"] == device_id]

    # -- the job ------------------------------------------------------------------------

    async def deliver_job(self, payload: dict[str, Any]) -> None:
        user_id, chat_id = int(payload["user_id"]), int(payload["chat_id"])
        async with self._db.read() as conn:
            subs = await self._stores.push.for_user(conn, user_id)
            state = await self._stores.push.chat_state(conn, user_id, chat_id)
            notice = await self._stores.push.notice(conn, user_id, chat_id)
            texts = (await self._stores.push.unread_texts(conn, chat_id,
                                                          after_seq=state["last_read_seq"])
                     if state is not None and state["my_username"] else [])
            reaction = notice["reaction"] if notice else None
            reactor = (await self._stores.push.display_name(
                conn, int(orjson.loads(reaction)["by"])) if reaction else "")
        if state is None or not subs:
            return
        unread = max(0, state["last_seq"] - state["last_read_seq"])
        shown = notice is not None and notice["shown"]
        wait_ms = (notice["sent_at"] + MIN_INTERVAL_MS - wall_ms()) if notice else 0
        if (unread or reaction) and wait_ms > 0:  # run again early: wait out the interval
            raise RetryLater(wait_ms / 1000, "")
        failed, sent_at = False, None
        if unread == 0 and reaction is None:
            if shown:  # read on another device: close the notification everywhere
                failed = await self._push(subs, chat_id, lambda _sub: orjson.dumps(
                    {"type": "close", "chat_id": chat_id}), urgency="low")
            shown = False
        elif await self._wanted(user_id, chat_id, texts, state["my_username"]):
            note = orjson.loads(reaction or "{}")
            if note.get("action") in ACTIONS:  # asked to act: that, over what is unread
                body = {**_reaction_notice(chat_id, state, reactor, note), "unread": unread}
                failed = await self._push(subs, chat_id, lambda _sub: _fit(body),
                                          urgency="high")
            elif unread:
                failed = await self._push(subs, chat_id, lambda sub: _fit(_notification(
                    chat_id, state, unread, previews=bool(sub["previews"]))), urgency="high")
            else:
                body = _reaction_notice(chat_id, state, reactor, note)
                failed = await self._push(subs, chat_id, lambda _sub: _fit(body),
                                          urgency="normal")
            shown, sent_at = True, wall_ms()
        # Shares its commit with the other jobs' records and the marks of the moment.
        await self._writer.run_shared(lambda tx: tx.stores.push.record(
            tx.conn, user_id=user_id, chat_id=chat_id, seen_seq=state["last_seq"],
            seen_read=state["last_read_seq"], shown=shown, sent_at=sent_at, reaction=reaction))
        if failed:
            raise PushFailed(f"a push service did not take the push of chat {chat_id}")

    async def give_up_job(self, payload: dict[str, Any], _error: str) -> None:
        """A push that failed every try is dropped (it is stale by now), and its key freed:
        the next message queues one again."""
        key = _key(int(payload["user_id"]), int(payload["chat_id"]))
        await self._writer.run(lambda tx: tx.stores.jobs.drop_failed(tx.conn, key))

    async def still_needed(self, conn: Conn, payload: dict[str, Any]) -> bool:
        """The chat changed since the job looked (a message or a read came in while it ran,
        and was absorbed by it): it runs again."""
        user_id, chat_id = int(payload["user_id"]), int(payload["chat_id"])
        state = await self._stores.push.chat_state(conn, user_id, chat_id)
        notice = await self._stores.push.notice(conn, user_id, chat_id)
        if state is None or notice is None:
            return False  # left the chat, or there was no one to push to
        return notice["reaction"] is not None or (
            state["last_seq"], state["last_read_seq"]) != (notice["seen_seq"],
                                                           notice["seen_read"])

    async def _wanted(self, user_id: int, chat_id: int, texts: list[str],
                      username: str | None) -> bool:
        """Not online anywhere, and the chat not muted (or muted with mentions let through,
        and one of the unread messages mentions them)."""
        if await self._online([user_id]):
            return False
        mute = (await self._muted(chat_id, [user_id], self._clock.now_ms())).get(user_id)
        if mute is None:
            return True
        return mute.mentions and username is not None and any(
            username in {m.lower() for m in MENTION.findall(text)} for text in texts)

    async def _push(self, subs: list[dict[str, Any]], chat_id: int,
                    body: Callable[[dict[str, Any]], bytes], *, urgency: str) -> bool:
        """Push to every subscription; True if one should be tried again."""
        failed = False
        for sub in subs:
            outcome = await self._sender.send(
                Subscription(sub["endpoint"], sub["p256dh"], sub["auth"]), body(sub),
                topic=f"chat{chat_id}", urgency=urgency)
            if outcome is Outcome.SENT:
                self.sent += 1
            elif outcome is Outcome.GONE:
                self.gone += 1
                await self._forget(sub["endpoint"])
            elif outcome is Outcome.FAILED:
                failed = True
        return failed


    async def _forget(self, endpoint: str) -> None:
        await self._writer.run(lambda tx: tx.stores.push.delete(tx.conn, endpoint))


def _notification(chat_id: int, state: dict[str, Any], unread: int, *,
                  previews: bool) -> dict[str, Any]:
    sender = state["sender_name"] or ""
    title = state["title"] if state["kind"] != "direct" else sender
    if not previews or state["deleted"] or state["message_kind"] == "system":
        preview = NO_PREVIEW
    elif state["message_kind"] != "text" and not state["text"]:
        preview = f"[{state['message_kind']}]"
    else:
        preview = state["text"][:PREVIEW_CHARS]
    return {"type": "message", "chat_id": chat_id, "title": title, "sender": sender,
            "unread": unread, "seq": state["last_seq"], "preview": preview}



def _reaction_notice(chat_id: int, state: dict[str, Any], reactor: str,
                     reaction: dict[str, Any]) -> dict[str, Any]:
    """Nothing unread, but someone reacted to your message (the emoji is the preview) or
    asks you to act (what they ask is, and the payload names the action)."""
    title = state["title"] if state["kind"] != "direct" else reactor
    body = {"type": "message", "chat_id": chat_id, "title": title, "sender": reactor,
            "unread": 0, "seq": state["last_seq"]}
    action = reaction.get("action")
    if action in ACTIONS:
        return {**body, "preview": ACTIONS[action], "action": action}
    return {**body, "preview": str(reaction.get("emoji", "")), "reaction": True}
