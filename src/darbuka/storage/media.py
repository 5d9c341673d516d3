"""Media rows (uploads and their variants), where media appears, and their safety hashes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, update

from darbuka.storage.db import Conn
from darbuka.storage.rows import MediaFields, MediaRow, typed
from darbuka.storage.tables.accounts import users
from darbuka.storage.tables.chats import chats, members
from darbuka.storage.tables.media import media, media_hashes, media_refs, stickers

__all__ = ["MediaStore"]

Row = dict[str, Any]


class MediaStore:
    async def insert(self, conn: Conn, row: MediaRow) -> None:
        await conn.execute(insert(media).values(**row))

    async def get(self, conn: Conn, media_id: str) -> MediaRow | None:
        found = (await conn.execute(select(media).where(media.c.id == media_id))).mappings()
        row = found.first()
        return typed(row, MediaRow) if row else None

    async def by_ids(self, conn: Conn, ids: Iterable[str]) -> dict[str, MediaRow]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = (await conn.execute(select(media).where(media.c.id.in_(wanted)))).mappings()
        return {str(r["id"]): typed(r, MediaRow) for r in rows}

    async def update(self, conn: Conn, media_id: str, values: MediaFields,
                     *, state: str | None = None, received: int | None = None) -> bool:
        """Change a row; with `state` (and `received`), only while it still has them."""
        query = update(media).where(media.c.id == media_id)
        if state is not None:
            query = query.where(media.c.state == state)
        if received is not None:
            query = query.where(media.c.received == received)
        result = await conn.execute(query.values(**values))
        return bool(result.rowcount)

    async def delete(self, conn: Conn, media_id: str) -> None:
        await conn.execute(delete(media).where(media.c.id == media_id))

    async def bytes_held(self, conn: Conn, owner_id: int) -> int:
        """What counts against a user's quota: every upload not refused."""
        query = select(func.coalesce(func.sum(media.c.length), 0)).where(
            media.c.owner_id == owner_id, media.c.state != "failed")
        return int((await conn.execute(query)).scalar_one())

    async def expired(self, conn: Conn, now: int, limit: int = 100) -> list[MediaRow]:
        query = select(media).where(media.c.state.in_(("uploading", "failed")),
                                    media.c.expires_at.is_not(None),
                                    media.c.expires_at < now).limit(limit)
        return [typed(r, MediaRow) for r in (await conn.execute(query)).mappings()]

    async def blob_uses(self, conn: Conn) -> list[tuple[str, str, str | None]]:
        """(id, state, variants JSON) of every media row: what the blob sweep keeps."""
        query = select(media.c.id, media.c.state, media.c.variants)
        return [(str(i), str(s), v) for i, s, v in (await conn.execute(query)).all()]

    async def in_state(self, conn: Conn, state: str) -> list[str]:
        query = select(media.c.id).where(media.c.state == state)
        return [str(i) for i in (await conn.execute(query)).scalars()]

    async def add_refs(self, conn: Conn, rows: list[Row]) -> None:
        if rows:
            await conn.execute(insert(media_refs), rows)

    async def drop_refs(self, conn: Conn, message_id: int) -> None:
        await conn.execute(delete(media_refs).where(media_refs.c.message_id == message_id))

    async def set_refs_removed(self, conn: Conn, message_id: int,
                               removed: bool) -> None:
        """A message removed by moderation (or reinstated): its media refs stop (or start
        again) letting anyone download, and its uploads being attached again."""
        await conn.execute(update(media_refs).where(media_refs.c.message_id == message_id)
                           .values(removed=removed))

    async def removed_uploads(self, conn: Conn, media_ids: Iterable[str]) -> set[str]:
        """Of these media, those on a message that moderation removed."""
        wanted = list(set(media_ids))
        if not wanted:
            return set()
        query = select(media_refs.c.media_id).where(media_refs.c.media_id.in_(wanted),
                                                    media_refs.c.removed.is_(True)).distinct()
        return {str(m) for m in (await conn.execute(query)).scalars()}

    async def refs_of(self, conn: Conn, media_id: str) -> list[Row]:
        """Every message that carries the media, oldest first."""
        query = select(media_refs).where(media_refs.c.media_id == media_id)
        return [dict(r) for r in (await conn.execute(query.order_by(media_refs.c.message_id)))
                .mappings()]

    async def seen_by(self, conn: Conn, media_id: str, user_id: int) -> bool:
        """Whether the media appears in a chat the user is a member of (on a message
        moderation has not removed)."""
        query = select(exists().where(
            media_refs.c.media_id == media_id, media_refs.c.removed.is_(False),
            exists().where(and_(members.c.chat_id == media_refs.c.chat_id,
                                members.c.user_id == user_id))))
        return bool((await conn.execute(query)).scalar())

    async def is_shared(self, conn: Conn, media_id: str, kind: str) -> bool:
        """A sticker in some pack, or a profile photo in use: any signed-in user sees it."""
        if kind == "sticker":
            query = select(exists().where(stickers.c.media_id == media_id))
        else:
            query = select(exists().where(users.c.avatar == media_id)
                           | exists().where(chats.c.avatar == media_id))
        return bool((await conn.execute(query)).scalar())

    async def add_hashes(self, conn: Conn, rows: list[Row]) -> None:
        if rows:
            await conn.execute(insert(media_hashes), rows)

    async def hashes(self, conn: Conn, media_id: str) -> list[Row]:
        query = select(media_hashes).where(media_hashes.c.media_id == media_id)
        return [dict(r) for r in (await conn.execute(query.order_by(media_hashes.c.id)))
                .mappings()]

    # -- for retroactive matching (`safety/retro.py`) ----------------------------------------

    async def hash_page(self, conn: Conn, algo: str, after_id: int,
                        limit: int) -> list[tuple[int, str, str, int]]:
        """(row id, media id, hex value, quality) of stored hashes of `algo` after a row id,
        in id order. Plain tuples: a scan reads millions."""
        h = media_hashes.c
        query = (select(h.id, h.media_id, h.value, func.coalesce(h.quality, 0))
                 .where(h.algo == algo, h.id > after_id).order_by(h.id).limit(limit))
        return [(int(i), str(m), str(v), int(q)) for i, m, v, q in
                (await conn.execute(query)).all()]

    async def count_hashes(self, conn: Conn, algo: str, after_id: int) -> int:
        h = media_hashes.c
        query = select(func.count()).where(h.algo == algo, h.id > after_id)
        return int((await conn.execute(query)).scalar_one())

    async def with_hash_values(self, conn: Conn, algo: str, values: list[str]) -> set[str]:
        """The media having a stored hash of `algo` equal to one of `values` (hex)."""
        found: set[str] = set()
        for start in range(0, len(values), 1000):
            query = select(media_hashes.c.media_id).where(
                media_hashes.c.algo == algo,
                media_hashes.c.value.in_(values[start:start + 1000]))
            found.update(str(m) for (m,) in (await conn.execute(query)).all())
        return found
