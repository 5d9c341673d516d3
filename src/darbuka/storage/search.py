"""Message search: the index, written in the transaction that writes the message, and the
query that finds what a user may see, newest first.

SQLite keeps the words in a contentless FTS5 table (`detail=none`: only which message holds
which word, the smallest index that answers "every word, as a prefix"); PostgreSQL in a
tsvector of the same words with a GIN index. Both get `searchtext.index_text`, so both find
the same messages. A contentless FTS5 row is deleted by the words it was indexed under, so
every change of a message's text hands the old text in (`replace`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from sqlalchemy import Integer, bindparam, column, insert, select, table, text, update

from darbuka.storage.db import Conn
from darbuka.storage.events import within_spans
from darbuka.storage.searchtext import index_text
from darbuka.storage.tables.chats import membership_spans
from darbuka.storage.tables.search import message_search

__all__ = ["SearchEntry", "SearchStore"]


class SearchEntry(TypedDict):
    message_id: int
    chat_id: int
    pos: int
    text: str


_FTS_ADD = text("INSERT INTO message_fts (rowid, body) VALUES (:id, :body)")
_FTS_DROP = text("INSERT INTO message_fts (message_fts, rowid, body) "
                 "VALUES ('delete', :id, :body)")
_PG_WORDS = text("UPDATE message_search SET words = array_to_tsvector("
                 "string_to_array(:body, ' ')) WHERE message_id = :id")


_FTS = table("message_fts", column("rowid", Integer))


def _fts_query(words: Sequence[str]) -> str:
    # Words are runs of letters and digits (no quotes): each a prefix, all required.
    return " ".join(f'"{w}"*' for w in words)


def _pg_query(words: Sequence[str]) -> str:
    return " & ".join(f"'{w}':*" for w in words)


class SearchStore:
    async def add(self, conn: Conn, entries: Sequence[SearchEntry]) -> None:
        """Index new messages (an empty text is kept too: a caption may come by an edit)."""
        if not entries:
            return
        await conn.execute(insert(message_search), [
            {"message_id": e["message_id"], "chat_id": e["chat_id"], "pos": e["pos"],
             "has_words": bool(index_text(e["text"]))} for e in entries])
        await self._set_words(conn, [(e["message_id"], "", e["text"]) for e in entries])

    async def replace(self, conn: Conn, message_id: int, old: str, new: str) -> None:
        """The message's text changed from `old` to `new` (an edit; a delete or removal is
        `new=""`, a reinstatement `old=""`): from now on only `new` finds it. Its row stays,
        keeping the position a reinstatement needs. `old` counts only while the row says
        its words are in: a contentless FTS5 row must never lose words it does not hold."""
        row = (await conn.execute(select(message_search.c.has_words)
                                  .where(message_search.c.message_id == message_id))).first()
        if row is None:
            return
        await self._set_words(conn, [(message_id, old if row[0] else "", new)])
        await conn.execute(update(message_search).where(
            message_search.c.message_id == message_id).values(has_words=bool(index_text(new))))

    async def _set_words(self, conn: Conn, changes: list[tuple[int, str, str]]) -> None:
        """(message id, text indexed so far, text to index) for messages of the table."""
        bodies = [(i, index_text(old), index_text(new)) for i, old, new in changes]
        if conn.dialect.name == "postgresql":
            if params := [{"id": i, "body": new} for i, old, new in bodies if old != new]:
                await conn.execute(_PG_WORDS, params)
            return
        if drops := [{"id": i, "body": old} for i, old, new in bodies if old and old != new]:
            await conn.execute(_FTS_DROP, drops)
        if adds := [{"id": i, "body": new} for i, old, new in bodies if new and old != new]:
            await conn.execute(_FTS_ADD, adds)

    async def find(self, conn: Conn, user_id: int, words: Sequence[str], *,
                   chat_id: int | None, before: int | None, limit: int) -> list[int]:
        """Ids of messages holding every word (as a word's start) that the user may see by
        their membership spans, newest first, below message id `before`."""
        uid = bindparam("uid", user_id, type_=Integer)
        if conn.dialect.name == "postgresql":
            query: Any = select(message_search.c.message_id).where(
                text("message_search.words @@ CAST(:q AS tsquery)")
                .bindparams(q=_pg_query(words)))
            order: Any = message_search.c.message_id
        else:
            # Ordered by the FTS table's rowid, which FTS5 walks newest first itself: a
            # common word stops at `limit` visible hits instead of sorting every match.
            query = select(message_search.c.message_id).select_from(_FTS).join(
                message_search, message_search.c.message_id == _FTS.c.rowid).where(
                text("message_fts MATCH :q").bindparams(q=_fts_query(words)))
            order = _FTS.c.rowid
        query = query.join(membership_spans, within_spans(
            message_search.c.chat_id, message_search.c.pos, uid))
        if chat_id is not None:
            query = query.where(message_search.c.chat_id == chat_id)
        if before is not None:
            query = query.where(order < before)
        rows = await conn.execute(query.order_by(order.desc()).limit(limit))
        return [int(r[0]) for r in rows]
