"""Migration 0015 indexes the messages stored before it, each at its `message.new` position
(so the membership spans decide who finds it), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command

from darbuka.storage import Database, Stores
from darbuka.storage.migrate import alembic_config
from darbuka.storage.searchtext import query_words


def _old_rows(conn: sa.Connection) -> None:
    run = conn.execute
    run(sa.text("INSERT INTO users (id, phone, created_at) VALUES (1, '+15555550101', 1), "
                "(2, '+15555550102', 1)"))
    run(sa.text("INSERT INTO chats (id, kind, title, created_at) VALUES (1, 'group', 'g', 1)"))
    # User 1 is in the chat from position 1 on; user 2 was, from 1 to 3.
    run(sa.text("INSERT INTO membership_spans (chat_id, user_id, from_pos, to_pos) VALUES "
                "(1, 1, 1, NULL), (1, 2, 1, 3)"))
    run(sa.text("INSERT INTO messages (id, chat_id, seq, sender_id, text, created_at) VALUES "
                "(1, 1, 1, 1, 'Crème brûlée early', 1), (2, 1, 2, 1, 'كِتَابُ late', 2), "
                "(3, 1, 3, 1, 'pruned long ago', 0)"))
    for pos, message_id in ((2, 1), (5, 2)):  # message 3's event was pruned
        payload = orjson.dumps({"type": "message.new", "message": {"id": message_id}})
        run(sa.text("INSERT INTO events (pos, chat_id, type, payload, created_at) "
                    "VALUES (:pos, 1, 'message.new', :payload, 1)"),
            {"pos": pos, "payload": payload})
    run(sa.text("UPDATE streams SET pos = 9"))


def test_messages_stored_before_are_found_by_who_saw_them(database_url: str) -> None:
    async def run() -> dict[tuple[int, str], list[int]]:
        db = Database(database_url)
        stores = Stores()
        try:
            def upgrade(conn: sa.Connection) -> None:
                command.upgrade(alembic_config(conn), "0020")
                conn.execute(sa.text("INSERT INTO streams (id, pos) VALUES (0, 0)"))
                _old_rows(conn)
                command.upgrade(alembic_config(conn), "head")

            await db.run_sync(upgrade)
            found: dict[tuple[int, str], list[int]] = {}
            async with db.read() as conn:
                for user in (1, 2):
                    for q in ("creme", "كتاب", "pruned"):
                        found[user, q] = await stores.search.find(
                            conn, user, query_words(q), chat_id=None, before=None, limit=10)
            await db.run_sync(lambda conn: command.downgrade(alembic_config(conn), "0020"))
            return found
        finally:
            await db.dispose()

    found: dict[Any, list[int]] = asyncio.run(run())
    assert found == {(1, "creme"): [1], (1, "كتاب"): [2], (1, "pruned"): [3],
                     (2, "creme"): [1], (2, "كتاب"): [], (2, "pruned"): []}
