"""Rows of imports (`tables/imports.py`): which chat, account and message each item of a
source became; and people's data exports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update

from darbuka.storage.db import Conn
from darbuka.storage.tables.imports import (
    data_exports,
    import_authors,
    import_chats,
    import_messages,
)

__all__ = ["ExportStore", "ImportStore"]

Row = dict[str, Any]


class ImportStore:
    async def chat_of(self, conn: Conn, source: str) -> int | None:
        found = await conn.execute(select(import_chats.c.chat_id)
                                   .where(import_chats.c.source == source))
        value = found.scalar_one_or_none()
        return None if value is None else int(value)

    async def add_chat(self, conn: Conn, source: str, chat_id: int, *, now: int) -> None:
        await conn.execute(insert(import_chats).values(source=source, chat_id=chat_id,
                                                       created_at=now))

    async def authors(self, conn: Conn, source: str) -> dict[str, int]:
        found = await conn.execute(select(import_authors.c.author, import_authors.c.user_id)
                                   .where(import_authors.c.source == source))
        return {str(a): int(u) for a, u in found}

    async def add_author(self, conn: Conn, source: str, author: str, user_id: int) -> None:
        await conn.execute(insert(import_authors).values(source=source, author=author,
                                                         user_id=user_id))

    async def items(self, conn: Conn, source: str) -> dict[int, int | None]:
        """Every item of the source met before: its message id (None: not imported)."""
        found = await conn.execute(select(import_messages.c.item, import_messages.c.message_id)
                                   .where(import_messages.c.source == source))
        return {int(i): (None if m is None else int(m)) for i, m in found}

    async def add_items(self, conn: Conn, rows: Iterable[Row]) -> None:
        batch = list(rows)
        if batch:
            await conn.execute(insert(import_messages), batch)


class ExportStore:
    async def add(self, conn: Conn, user_id: int, *, now: int) -> int:
        found = await conn.execute(insert(data_exports).values(
            user_id=user_id, state="pending", created_at=now).returning(data_exports.c.id))
        return int(found.scalar_one())

    async def get(self, conn: Conn, export_id: int) -> Row | None:
        found = (await conn.execute(select(data_exports)
                                    .where(data_exports.c.id == export_id))).first()
        return dict(found._mapping) if found else None

    async def of_user(self, conn: Conn, user_id: int, *, limit: int = 10) -> list[Row]:
        found = await conn.execute(select(data_exports).where(data_exports.c.user_id == user_id)
                                   .order_by(data_exports.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in found]

    async def finish(self, conn: Conn, export_id: int, values: Row) -> None:
        await conn.execute(update(data_exports).where(data_exports.c.id == export_id,
                                                      data_exports.c.state == "pending")
                           .values(**values))

    async def expire_before(self, conn: Conn, user_id: int, export_id: int) -> None:
        """A person's earlier zips go when they ask for a new one (the blob sweep takes
        their files)."""
        await conn.execute(update(data_exports).where(
            data_exports.c.user_id == user_id, data_exports.c.id < export_id,
            data_exports.c.state == "ready").values(state="expired", blob=None))

    async def blob_keys(self, conn: Conn) -> set[str]:
        """The zips that are ready (the blob sweep keeps them)."""
        found = await conn.execute(select(data_exports.c.blob)
                                   .where(data_exports.c.blob.is_not(None)))
        return {str(k) for (k,) in found}
