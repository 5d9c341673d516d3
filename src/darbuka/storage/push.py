"""Web Push: subscriptions by device, who in a chat has one, and the per-chat notice state."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from darbuka.storage.db import Conn
from darbuka.storage.tables.accounts import users
from darbuka.storage.tables.chats import chats, members
from darbuka.storage.tables.messages import messages
from darbuka.storage.tables.push import push_notices, push_subscriptions

__all__ = ["PushStore"]

Row = dict[str, Any]
s = push_subscriptions.c
n = push_notices.c


def _dialect(conn: Conn) -> Any:
    return postgresql if conn.dialect.name == "postgresql" else sqlite


class PushStore:
    async def subscribe(self, conn: Conn, *, user_id: int, device_id: int, endpoint: str,
                        p256dh: str, auth: str, previews: bool, now: int) -> None:
        """One row per endpoint: a browser subscribing again (new keys, or another account
        signed in on it) replaces what it had."""
        values = {"user_id": user_id, "device_id": device_id, "p256dh": p256dh, "auth": auth,
                  "previews": previews}
        insert = _dialect(conn).insert(push_subscriptions).values(
            endpoint=endpoint, created_at=now, **values)
        await conn.execute(insert.on_conflict_do_update(index_elements=[s.endpoint],
                                                        set_=values))

    async def unsubscribe(self, conn: Conn, *, user_id: int, endpoint: str) -> bool:
        result = await conn.execute(delete(push_subscriptions).where(
            s.endpoint == endpoint, s.user_id == user_id))
        return bool(result.rowcount)

    async def delete(self, conn: Conn, endpoint: str) -> None:
        await conn.execute(delete(push_subscriptions).where(s.endpoint == endpoint))

    async def for_user(self, conn: Conn, user_id: int) -> list[Row]:
        query = select(push_subscriptions).where(s.user_id == user_id).order_by(s.id)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def recipients(self, conn: Conn,
                         chat_ids: Iterable[int]) -> dict[tuple[int, int], int]:
        """(user, chat) -> when they were last notified of it, for every member of these
        chats with a subscription. Channels are read on opening (fan-out on read): their
        subscribers get no push per post."""
        query = (select(members.c.user_id, members.c.chat_id,
                        func.coalesce(n.sent_at, 0).label("sent_at")).distinct()
                 .join(chats, chats.c.id == members.c.chat_id)
                 .join(push_subscriptions, s.user_id == members.c.user_id)
                 .outerjoin(push_notices, and_(n.user_id == members.c.user_id,
                                               n.chat_id == members.c.chat_id))
                 .where(members.c.chat_id.in_(sorted(set(chat_ids))),
                        chats.c.kind != "channel"))
        return {(r.user_id, r.chat_id): r.sent_at for r in await conn.execute(query)}

    async def chat_state(self, conn: Conn, user_id: int, chat_id: int) -> Row | None:
        """What a notification about `chat_id` shows `user_id`: the chat, their read mark,
        the last message and its sender's name; None once they are not a member."""
        sender, me = users.alias("sender"), users.alias("me")
        query = (select(chats.c.kind, chats.c.title, chats.c.last_seq,
                        me.c.username_key.label("my_username"),
                        members.c.last_read_seq, messages.c.sender_id, messages.c.kind.label(
                            "message_kind"), messages.c.text, messages.c.deleted,
                        sender.c.display_name.label("sender_name"))
                 .join(members, and_(members.c.chat_id == chats.c.id,
                                     members.c.user_id == user_id))
                 .join(me, me.c.id == user_id)
                 .outerjoin(messages, messages.c.id == chats.c.last_message_id)
                 .outerjoin(sender, sender.c.id == messages.c.sender_id)
                 .where(chats.c.id == chat_id))
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def unread_texts(self, conn: Conn, chat_id: int, *, after_seq: int,
                           limit: int = 100) -> list[str]:
        """The latest texts after a read mark (a muted chat's mentions are looked for here)."""
        query = (select(messages.c.text).where(messages.c.chat_id == chat_id,
                                               messages.c.seq > after_seq,
                                               messages.c.deleted.is_(False))
                 .order_by(messages.c.seq.desc()).limit(limit))
        return [r.text for r in await conn.execute(query)]

    # -- notice state -------------------------------------------------------------------

    async def notice(self, conn: Conn, user_id: int, chat_id: int) -> Row | None:
        row = (await conn.execute(select(push_notices).where(
            n.user_id == user_id, n.chat_id == chat_id))).mappings().first()
        return dict(row) if row else None

    async def record(self, conn: Conn, *, user_id: int, chat_id: int, seen_seq: int,
                     seen_read: int, shown: bool, sent_at: int | None,
                     reaction: str | None = None) -> None:
        """What a job looked at; `sent_at` when it sent a notification (None: it did not).
        The reaction it looked at is cleared, unless another came meanwhile."""
        values: Row = {"seen_seq": seen_seq, "seen_read": seen_read, "shown": shown,
                       "reaction": case((n.reaction == reaction, None), else_=n.reaction)}
        if sent_at is not None:
            values["sent_at"] = sent_at
        insert = _dialect(conn).insert(push_notices).values(
            user_id=user_id, chat_id=chat_id, **{**values, "reaction": None})
        await conn.execute(insert.on_conflict_do_update(
            index_elements=[n.user_id, n.chat_id], set_=values))

    async def note_reaction(self, conn: Conn, *, user_id: int, chat_id: int,
                            reaction: str) -> int | None:
        """Keep a reaction for `user_id`'s next push, if they have a subscription; when they
        were last notified of the chat (None: no subscription, nothing kept)."""
        has = await conn.execute(select(s.id).where(s.user_id == user_id).limit(1))
        if has.first() is None:
            return None
        insert = _dialect(conn).insert(push_notices).values(user_id=user_id, chat_id=chat_id,
                                                            reaction=reaction)
        await conn.execute(insert.on_conflict_do_update(
            index_elements=[n.user_id, n.chat_id], set_={"reaction": reaction}))
        notice = await self.notice(conn, user_id, chat_id)
        return int(notice["sent_at"]) if notice else 0

    async def display_name(self, conn: Conn, user_id: int) -> str:
        row = (await conn.execute(select(users.c.display_name)
                                  .where(users.c.id == user_id))).first()
        return str(row.display_name) if row else ""
