"""The event stream: position handout, append, and a user's view of it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)

from darbuka.storage.db import Conn, Query
from darbuka.storage.rows import EventRow, typed
from darbuka.storage.stream_head import Watermark
from darbuka.storage.tables.chats import membership_spans
from darbuka.storage.tables.events import events, streams
from darbuka.stream import Event, epoch_start, next_epoch

__all__ = ["EventStore", "within_spans"]

SHARD = 0
# Every write transaction takes positions; every sign-in and sync reads the head.
_RESERVE = Query(update(streams).where(streams.c.id == SHARD)
                 .values(pos=streams.c.pos + bindparam("count")).returning(streams.c.pos))
_HEAD = Query(select(streams.c.pos).where(streams.c.id == SHARD))
_OLDEST = Query(select(func.min(events.c.pos)))
# PostgreSQL (`storage/stream_head.py`). The one-time filter runs before the first nextval:
# the transaction has its xid before it holds a position.
_NEXT_PG = text("SELECT nextval('event_pos') FROM generate_series(1, :count) "
                "WHERE pg_current_xact_id() IS NOT NULL")
# The last position handed out (before the first nextval, the one before the start).
_TOP_PG = text("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
               "FROM event_pos")
_LOOK_PG = "SELECT top, writing FROM darbuka_stream_look()"
# While no look has proven a head yet (a process's first read while others write), how
# long to wait between looks (about one write transaction), and at most in all.
_PROOF_WAIT_S = 0.002
_PROOF_DEADLINE_S = 10.0


def within_spans(chat_id: Any, pos: Any, uid: Any) -> Any:
    """The rule of what of a chat a user sees: what took a position in the chat while they
    were in it (a span runs from the event that let them in to the one that let them out).
    The ON clause of a join with `membership_spans`; catch-up and search both use it."""
    return and_(membership_spans.c.chat_id == chat_id, membership_spans.c.user_id == uid,
                pos >= membership_spans.c.from_pos,
                or_(membership_spans.c.to_pos.is_(None), pos <= membership_spans.c.to_pos))


def _visible_union(*, bounded: bool) -> Any:
    """The events a user may see after `after` (and up to `upto`): those of the user's chats
    within their membership spans, and those addressed to the user. Parameters `uid`,
    `after` (and `upto`)."""
    uid, after = bindparam("uid", type_=Integer), bindparam("after", type_=Integer)
    chat_part = (
        select(events.c.pos, events.c.payload)
        .join(membership_spans, within_spans(events.c.chat_id, events.c.pos, uid))
        .where(events.c.pos > after))
    user_part = select(events.c.pos, events.c.payload).where(events.c.user_id == uid,
                                                             events.c.pos > after)
    if bounded:
        chat_part = chat_part.where(events.c.pos <= bindparam("upto"))
        user_part = user_part.where(events.c.pos <= bindparam("upto"))
    return union_all(chat_part, user_part).subquery()


def _visible_query(*, bounded: bool) -> Query:
    """Every page of catch-up (`/sync`, a socket's sign-in), oldest first."""
    sub = _visible_union(bounded=bounded)
    return Query(select(sub.c.pos, sub.c.payload).order_by(sub.c.pos)
                 .limit(bindparam("limit", type_=Integer)))


_VISIBLE = _visible_query(bounded=False)
_VISIBLE_UPTO = _visible_query(bounded=True)


class EventStore:
    """Stream positions on both engines. SQLite: one writer takes them under the `streams`
    row's lock, so they commit in order and the head is the row. PostgreSQL: from a
    sequence, committed in any order; the head is the one proven complete."""

    def __init__(self) -> None:
        self._watermark = Watermark()

    async def ensure_stream(self, conn: Conn) -> None:
        found = await conn.execute(select(streams.c.pos).where(streams.c.id == SHARD))
        if found.first() is None:
            await conn.execute(insert(streams).values(id=SHARD, pos=0))

    async def start_epoch(self, conn: Conn, *, at_least: int = 0) -> int:
        """Begin the next stream epoch (after a restore), or `at_least` if that is later:
        positions go on from its start, and cursors of earlier epochs get `reset`."""
        epoch = next_epoch(await self.top(conn), at_least=at_least)
        await conn.execute(update(streams).where(streams.c.id == SHARD)
                           .values(pos=epoch_start(epoch)))
        if _postgres(conn):  # every server is stopped: nobody takes a position meanwhile
            await conn.execute(text("SELECT setval('event_pos', :pos, true)"),
                               {"pos": epoch_start(epoch)})
        return epoch

    async def reserve(self, conn: Conn, count: int) -> list[int]:
        """Take `count` positions, ascending.

        SQLite: consecutive; the UPDATE holds the row lock until commit, so transactions
        that take positions commit in position order. PostgreSQL: from the sequence, with
        no lock held; others' positions may lie between them, and a rollback leaves holes.
        Either way a reader never sees N+1 while N may still come (see `head`).
        """
        if _postgres(conn):
            found = await conn.execute(_NEXT_PG, {"count": count})
            return [int(pos) for (pos,) in found.all()]
        rows = await conn.rows(_RESERVE, {"count": count})
        last = int(rows[0][0])
        return list(range(last - count + 1, last + 1))

    async def append(self, conn: Conn, rows: list[EventRow]) -> None:
        if rows:
            await conn.execute(insert(events), rows)

    async def head(self, conn: Conn) -> int:
        """The complete head: every position up to it is, as this transaction sees, stored
        or never will be, so what is read up to it never misses a position that comes
        later. On PostgreSQL read it first in a read transaction: its proof must come
        before the transaction's snapshot (`storage/stream_head.py`)."""
        return (await self.bounds(conn))[0]

    async def bounds(self, conn: Conn) -> tuple[int, int]:
        """The complete head (`head`) and the highest position handed out (`top`), read
        together (on SQLite the same)."""
        if not _postgres(conn):
            rows = await conn.rows(_HEAD, {})
            head = int(rows[0][0] or 0) if rows else 0
            return head, head
        deadline = time.monotonic() + _PROOF_DEADLINE_S
        while True:
            look = await conn.before_snapshot(_LOOK_PG)
            if look is None:
                raise RuntimeError("the stream's head is read before anything else in a "
                                   "read transaction (its proof must precede the snapshot)")
            top, writing = int(look[0]), frozenset(look[1])
            proven = self._watermark.look(top, writing)
            # Only a read transaction waits (a writer's own look, a new bot's marker, takes
            # what is proven: nothing up to 0 can be missed). Readers hold no xid: no
            # writer ever waits for them.
            if proven is not None or not conn.snapshot_pending:
                return proven or 0, top
            if time.monotonic() > deadline:
                raise RuntimeError("the event stream's head cannot be proven: a write "
                                   f"transaction has run for {_PROOF_DEADLINE_S:.0f} s")
            await asyncio.sleep(_PROOF_WAIT_S)

    def note_delivered(self, delivered: list[Event]) -> None:
        """Live delivery handed these out, in position order, every position before them
        delivered or proven absent: all up to the last are decided for any snapshot taken
        from now on (the Redis bus's sequencer; see `container.py`)."""
        if delivered:
            self._watermark.delivered = max(self._watermark.delivered, delivered[-1].pos)

    async def committed_past(self, conn: Conn, head: int) -> frozenset[int]:
        """Positions past the complete `head` already committed for this transaction (none
        on SQLite, where positions commit in order; on PostgreSQL those that overtook a
        write still running: a few)."""
        if not _postgres(conn):
            return frozenset()
        found = await conn.execute(select(events.c.pos).where(events.c.pos > head))
        return frozenset(int(pos) for (pos,) in found.all())

    async def read_bound(self, conn: Conn) -> int | None:
        """What a read of events after a cursor must stop at: the complete head on
        PostgreSQL; None on SQLite, whose positions all commit in order (no statement)."""
        return await self.head(conn) if _postgres(conn) else None

    async def top(self, conn: Conn) -> int:
        """The highest position handed out, committed or not (a cursor past it is from the
        future, or from another database). On SQLite the head."""
        if not _postgres(conn):
            return await self.head(conn)
        return int((await conn.execute(_TOP_PG)).scalar_one())

    async def between(self, conn: Conn, after: int, upto: int) -> list[EventRow]:
        """Every stored event with after < pos <= upto, oldest first (live delivery fills
        its gaps from here; keep the span small, it is read whole)."""
        query = select(events).where(events.c.pos > after, events.c.pos <= upto) \
            .order_by(events.c.pos)
        return [typed(row, EventRow) for row in (await conn.execute(query)).mappings()]

    async def oldest(self, conn: Conn) -> int:
        """The lowest position still stored (0 when nothing was ever pruned)."""
        rows = await conn.rows(_OLDEST, {})
        return int(rows[0][0] or 0) if rows else 0

    async def visible_to(self, conn: Conn, user_id: int, *, after: int,
                         limit: int, upto: int | None = None) -> list[tuple[int, bytes]]:
        """Events the user may see with after < pos (<= upto), oldest first."""
        params: dict[str, Any] = {"uid": user_id, "after": after, "limit": limit}
        if upto is None:
            rows = await conn.rows(_VISIBLE, params)
        else:
            rows = await conn.rows(_VISIBLE_UPTO, params | {"upto": upto})
        return [(int(p), bytes(b)) for p, b in rows]

    async def backlog_exceeds(self, conn: Conn, user_id: int, *, after: int,
                              cap: int) -> bool:
        inner = (select(literal(1)).select_from(_visible_union(bounded=False))
                 .limit(cap + 1).subquery())
        count = (await conn.execute(select(func.count()).select_from(inner),
                                    {"uid": user_id, "after": after})).scalar_one()
        return int(count) > cap

    async def scrub_message(self, conn: Conn, chat_id: int, message_id: int, *,
                            since: int, view: dict[str, Any]) -> int:
        """Replace a message's content in the stored events that carried it (new, edited).

        A deleted or removed message must also vanish from catch-up: a client syncing from
        an old cursor would otherwise still read the text in the original `message.new`.
        Only the chat's events since the message was written are looked at.
        """
        query = select(events.c.pos, events.c.type, events.c.payload).where(
            events.c.chat_id == chat_id, events.c.created_at >= since,
            events.c.type.in_(("message.new", "message.edited")))
        changed = 0
        for pos, type_, payload in (await conn.execute(query)).all():
            body = orjson.loads(payload)
            message = body.get("message")
            if isinstance(message, dict) and message.get("id") == message_id:
                new = orjson.dumps({"type": type_, "message": view})
                await conn.execute(update(events).where(events.c.pos == pos).values(payload=new))
                changed += 1
        return changed


def _postgres(conn: Conn) -> bool:
    return conn.dialect.name == "postgresql"
