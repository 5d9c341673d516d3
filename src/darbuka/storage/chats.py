"""Chats, their members, and membership spans."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update

from darbuka.storage.db import Conn, Query
from darbuka.storage.rows import (
    ChatFields,
    ChatRow,
    MemberListRow,
    MemberRow,
    Membership,
    UserChatRow,
    typed,
)
from darbuka.storage.tables.chats import chats, members, membership_spans
from darbuka.storage.tables.messages import messages

__all__ = ["ChatStore"]

Row = dict[str, Any]


# The send path's statements, once per batch of sends (see prepared.py).
_LOCK_SEQS = Query(select(chats.c.id, chats.c.last_seq)
                   .where(chats.c.id.in_(bindparam("ids", expanding=True))).with_for_update(),
                   expanding=("ids",))
_SET_LAST = Query(update(chats).where(chats.c.id == bindparam("cid"))
                  .values(last_seq=bindparam("seq"), last_message_id=bindparam("mid")))
_ROLES = Query(select(members.c.chat_id, members.c.user_id, members.c.role, chats.c.kind,
                      chats.c.closed, chats.c.slow_mode_s, members.c.last_post_at,
                      members.c.draft_at)
               .join(chats, chats.c.id == members.c.chat_id)
               .where(members.c.chat_id.in_(bindparam("chats", expanding=True)),
                      members.c.user_id.in_(bindparam("users", expanding=True))),
               expanding=("chats", "users"))
_READ_WHERE = (members.c.chat_id == bindparam("cid"), members.c.user_id == bindparam("uid"),
               members.c.last_read_seq < bindparam("seq"))
# A send's own UPDATE of its member row: the read mark, and when they posted (slow mode).
_MARK_SENT = Query(update(members).where(*_READ_WHERE).values(last_read_seq=bindparam("seq"),
                                                              last_post_at=bindparam("at")))
_MARK_READ_DELIVERED = Query(update(members).where(*_READ_WHERE).values(
    last_read_seq=bindparam("seq"),
    last_delivered_seq=case((members.c.last_delivered_seq < bindparam("seq"),
                             bindparam("seq")), else_=members.c.last_delivered_seq)))
_CHAT_IDS_OF = Query(select(members.c.chat_id).where(members.c.user_id == bindparam("uid")))


class ChatStore:
    async def create(self, conn: Conn, *, kind: str, title: str, owner_id: int | None,
                     now: int, direct_key: str | None = None, is_public: bool = False,
                     description: str = "", created_by: int | None = None) -> int:
        result = await conn.execute(insert(chats).values(
            kind=kind, title=title, owner_id=owner_id, created_at=now, direct_key=direct_key,
            is_public=is_public, description=description, created_by=created_by,
        ).returning(chats.c.id))
        return int(result.scalar_one())

    async def count_created_by(self, conn: Conn, user_id: int, *, direct: bool) -> int:
        """How many direct chats (or groups and channels) `user_id` made."""
        kind = chats.c.kind == "direct" if direct else chats.c.kind != "direct"
        query = select(func.count()).where(chats.c.created_by == user_id, kind)
        return int((await conn.execute(query)).scalar_one())

    async def get(self, conn: Conn, chat_id: int) -> ChatRow | None:
        row = (await conn.execute(select(chats).where(chats.c.id == chat_id))).mappings().first()
        return typed(row, ChatRow) if row else None

    async def by_direct_key(self, conn: Conn, key: str) -> ChatRow | None:
        query = select(chats).where(chats.c.direct_key == key)
        row = (await conn.execute(query)).mappings().first()
        return typed(row, ChatRow) if row else None

    async def update(self, conn: Conn, chat_id: int, values: ChatFields) -> None:
        await conn.execute(update(chats).where(chats.c.id == chat_id).values(**values))

    async def lock_seqs(self, conn: Conn, chat_ids: Iterable[int]) -> dict[int, int]:
        """Current last_seq of each chat, locked until commit (PostgreSQL; SQLite is serial)."""
        rows = await conn.rows(_LOCK_SEQS, {"ids": list(chat_ids)})
        return {int(i): int(s) for i, s in rows}

    async def set_last(self, conn: Conn, rows: list[Row]) -> None:
        """rows: {"cid", "seq", "mid"} — bump each chat's last message."""
        await conn.run_many(_SET_LAST, rows)

    # -- members --------------------------------------------------------------------------

    async def member(self, conn: Conn, chat_id: int, user_id: int) -> MemberRow | None:
        query = select(members).where(members.c.chat_id == chat_id, members.c.user_id == user_id)
        row = (await conn.execute(query)).mappings().first()
        return typed(row, MemberRow) if row else None

    async def roles(self, conn: Conn,
                    pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Membership]:
        """(chat_id, user_id) -> the membership, for the pairs that are memberships."""
        pairs = list(set(pairs))
        if not pairs:
            return {}
        rows = await conn.rows(_ROLES, {"chats": sorted({c for c, _ in pairs}),
                                        "users": sorted({u for _, u in pairs})})
        wanted = set(pairs)
        found: dict[tuple[int, int], Membership] = {}
        for chat_id, user_id, role, kind, closed, slow_mode_s, last_post_at, draft_at in rows:
            if (chat_id, user_id) in wanted:
                found[(int(chat_id), int(user_id))] = Membership(
                    str(role), str(kind), bool(closed), int(slow_mode_s), last_post_at,
                    has_draft=draft_at is not None)
        return found

    async def add_members(self, conn: Conn, chat_id: int, user_roles: dict[int, str],
                          *, now: int, pos: int, read_seq: int) -> None:
        if not user_roles:
            return
        await conn.execute(insert(members), [
            {"chat_id": chat_id, "user_id": u, "role": r, "joined_at": now,
             "last_read_seq": read_seq} for u, r in user_roles.items()])
        await conn.execute(insert(membership_spans), [
            {"chat_id": chat_id, "user_id": u, "from_pos": pos} for u in user_roles])
        await self._recount(conn, chat_id)

    async def remove_member(self, conn: Conn, chat_id: int, user_id: int, *,
                            pos: int) -> None:
        await conn.execute(delete(members).where(members.c.chat_id == chat_id,
                                                 members.c.user_id == user_id))
        await conn.execute(update(membership_spans).where(
            membership_spans.c.chat_id == chat_id, membership_spans.c.user_id == user_id,
            membership_spans.c.to_pos.is_(None)).values(to_pos=pos))
        await self._recount(conn, chat_id)

    async def _recount(self, conn: Conn, chat_id: int) -> None:
        count = select(func.count()).where(members.c.chat_id == chat_id).scalar_subquery()
        await conn.execute(update(chats).where(chats.c.id == chat_id).values(member_count=count))

    async def set_role(self, conn: Conn, chat_id: int, user_id: int, role: str, *,
                       promoted_by: int | None = None) -> None:
        await conn.execute(update(members).where(
            members.c.chat_id == chat_id, members.c.user_id == user_id).values(
                role=role, promoted_by=promoted_by))

    async def admin_ids(self, conn: Conn, chat_id: int) -> list[int]:
        """The chat's owner and admins (at most 51 rows)."""
        query = select(members.c.user_id).where(members.c.chat_id == chat_id,
                                                members.c.role.in_(("owner", "admin")))
        return [int(u) for u in (await conn.execute(query.order_by(members.c.user_id))).scalars()]

    async def count_role(self, conn: Conn, chat_id: int, role: str) -> int:
        query = select(func.count()).where(members.c.chat_id == chat_id, members.c.role == role)
        return int((await conn.execute(query)).scalar_one())

    async def mark_sent(self, conn: Conn, rows: list[Row]) -> None:
        """rows: {"cid", "uid", "seq", "at"} — each sender's read mark and last post."""
        await conn.run_many(_MARK_SENT, rows)

    async def mark_read(self, conn: Conn, rows: list[Row]) -> None:
        """rows: {"cid", "uid", "seq"} — move read markers forward only; the delivered marker
        moves along in the same UPDATE (read implies delivered). The send path has its own
        (`mark_sent`): a sender's own messages need no delivered mark."""
        await conn.run_many(_MARK_READ_DELIVERED, rows)

    async def mark_delivered(self, conn: Conn, chat_id: int, user_id: int,
                             seq: int) -> None:
        """Move one member's delivered marker forward only."""
        await conn.execute(update(members).where(
            members.c.chat_id == chat_id, members.c.user_id == user_id,
            members.c.last_delivered_seq < seq).values(last_delivered_seq=seq))

    async def has_blocked_member(self, conn: Conn, chat_id: int) -> bool:
        """Whether a member of the chat has the role "blocked" (direct chats only have it)."""
        query = (select(members.c.user_id)
                 .where(members.c.chat_id == chat_id, members.c.role == "blocked").limit(1))
        return (await conn.execute(query)).first() is not None

    async def list_members(self, conn: Conn, chat_id: int, *, after_user: int,
                           limit: int) -> list[MemberListRow]:
        # A member's own sends move only last_read_seq; what they read was delivered.
        delivered = case((members.c.last_delivered_seq > members.c.last_read_seq,
                          members.c.last_delivered_seq), else_=members.c.last_read_seq)
        query = (select(members.c.user_id, members.c.role, members.c.joined_at,
                        members.c.last_read_seq, delivered.label("last_delivered_seq"))
                 .where(members.c.chat_id == chat_id, members.c.user_id > after_user)
                 .order_by(members.c.user_id).limit(limit))
        return [typed(r, MemberListRow) for r in (await conn.execute(query)).mappings()]

    async def chat_ids_of(self, conn: Conn, user_id: int) -> set[int]:
        return {int(c) for c, in await conn.rows(_CHAT_IDS_OF, {"uid": user_id})}

    async def shared_chat_ids(self, conn: Conn, user_id: int) -> list[int]:
        """The user's direct chats and groups: where the others see who the user is (in a
        channel, subscribers do not see each other)."""
        query = (select(members.c.chat_id)
                 .join(chats, chats.c.id == members.c.chat_id)
                 .where(members.c.user_id == user_id, chats.c.kind.in_(("direct", "group")))
                 .order_by(members.c.chat_id))
        return [int(c) for c in (await conn.execute(query)).scalars()]

    async def user_chats(self, conn: Conn, user_id: int) -> list[UserChatRow]:
        """The user's chats with role, read marker and last message, newest activity first."""
        query = (
            select(chats, members.c.role, members.c.last_read_seq,
                   messages.c.id.label("m_id"), members.c.muted_until,
                   members.c.mute_mentions, members.c.draft, members.c.draft_at)
            .join(members, and_(members.c.chat_id == chats.c.id, members.c.user_id == user_id))
            .outerjoin(messages, messages.c.id == chats.c.last_message_id)
            .order_by(chats.c.last_message_id.desc().nulls_last(), chats.c.id.desc())
        )
        return [typed(r, UserChatRow) for r in (await conn.execute(query)).mappings()]

    async def roles_of_user(self, conn: Conn, user_id: int,
                            chat_ids: Iterable[int]) -> dict[int, str]:
        query = select(members.c.chat_id, members.c.role).where(
            members.c.user_id == user_id, members.c.chat_id.in_(list(chat_ids)))
        return {int(c): str(r) for c, r in (await conn.execute(query)).all()}

    async def shares_chat(self, conn: Conn, user_a: int, user_b: int, *,
                          kinds: tuple[str, ...] = ("direct", "group", "channel")) -> bool:
        """Whether both users are members of one chat of these kinds."""
        other = members.alias("other")
        query = (select(members.c.chat_id)
                 .join(other, other.c.chat_id == members.c.chat_id)
                 .join(chats, chats.c.id == members.c.chat_id)
                 .where(members.c.user_id == user_a, other.c.user_id == user_b,
                        chats.c.kind.in_(kinds)).limit(1))
        return (await conn.execute(query)).first() is not None
