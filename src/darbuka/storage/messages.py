"""Messages: batched insert for group commit, lookups, history pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update

from darbuka.storage.db import Conn, Query
from darbuka.storage.rows import MessageFields, MessageRow, typed
from darbuka.storage.tables.messages import messages

__all__ = ["MessageStore"]

Row = dict[str, Any]


# Every batch of sends looks for repeats; repeats are rare, so only ids are read first.
_REPEATS = Query(select(messages.c.id, messages.c.sender_id, messages.c.client_id)
                 .where(messages.c.sender_id.in_(bindparam("senders", expanding=True)),
                        messages.c.client_id.in_(bindparam("clients", expanding=True))),
                 expanding=("senders", "clients"))


class MessageStore:
    async def by_client_ids(self, conn: Conn,
                            keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], MessageRow]:
        """Messages already stored under (sender_id, client_id): repeats of earlier sends."""
        keys = set(keys)
        if not keys:
            return {}
        rows = await conn.rows(_REPEATS, {"senders": sorted({s for s, _ in keys}),
                                          "clients": sorted({c for _, c in keys})})
        ids = {(int(s), str(c)): int(i) for i, s, c in rows if (int(s), str(c)) in keys}
        if not ids:
            return {}
        full = await self.by_ids(conn, ids.values())
        return {key: full[message_id] for key, message_id in ids.items()}

    async def insert_many(self, conn: Conn,
                          rows: list[MessageFields]) -> list[int]:
        """Insert rows in order and return their new ids in the same order.

        One executemany plus one range read, not INSERT ... RETURNING: SQLite's driver can
        only return ids row by row, which would cost a statement per message in a batch.
        """
        await conn.execute(insert(messages), rows)
        ranges: dict[int, list[int]] = {}
        for row in rows:
            low_high = ranges.setdefault(row["chat_id"], [row["seq"], row["seq"]])
            low_high[0], low_high[1] = min(low_high[0], row["seq"]), max(low_high[1], row["seq"])
        query = select(messages.c.id, messages.c.chat_id, messages.c.seq).where(or_(*(
            and_(messages.c.chat_id == chat_id, messages.c.seq.between(low, high))
            for chat_id, (low, high) in ranges.items())))
        ids = {(int(c), int(q)): int(i) for i, c, q in (await conn.execute(query)).all()}
        return [ids[(row["chat_id"], row["seq"])] for row in rows]

    async def sent_by(self, conn: Conn, sender_id: int, *, after_id: int,
                      limit: int) -> list[MessageRow]:
        """One sender's messages not deleted, by id (a person's export of their data)."""
        query = (select(messages).where(messages.c.sender_id == sender_id,
                                        messages.c.id > after_id, ~messages.c.deleted)
                 .order_by(messages.c.id).limit(limit))
        return [typed(r, MessageRow) for r in (await conn.execute(query)).mappings()]

    async def get(self, conn: Conn, message_id: int) -> MessageRow | None:
        query = select(messages).where(messages.c.id == message_id)
        row = (await conn.execute(query)).mappings().first()
        return typed(row, MessageRow) if row else None

    async def by_ids(self, conn: Conn, ids: Iterable[int]) -> dict[int, MessageRow]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = (await conn.execute(select(messages).where(messages.c.id.in_(wanted)))).mappings()
        return {int(r["id"]): typed(r, MessageRow) for r in rows}

    async def update(self, conn: Conn, message_id: int,
                     values: MessageFields) -> None:
        await conn.execute(update(messages).where(messages.c.id == message_id).values(**values))

    async def page(self, conn: Conn, chat_id: int, *, before: int | None,
                   after: int | None, limit: int) -> list[MessageRow]:
        """Up to `limit` messages by seq, returned oldest first.

        `before` pages back from a seq (default: the newest); `after` pages forward.
        """
        query = select(messages).where(messages.c.chat_id == chat_id)
        if after is not None:
            query = query.where(messages.c.seq > after).order_by(messages.c.seq.asc())
        else:
            if before is not None:
                query = query.where(messages.c.seq < before)
            query = query.order_by(messages.c.seq.desc())
        rows = [typed(r, MessageRow) for r in (await conn.execute(query.limit(limit))).mappings()]
        if after is None:
            rows.reverse()
        return rows
