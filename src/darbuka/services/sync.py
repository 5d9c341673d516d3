"""Catch-up: the events a user may see after a cursor, in bounded slices, or a reset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from darbuka.errors import BadRequest
from darbuka.services.events import encode_cursor, parse_cursor, render_stored
from darbuka.settings import Settings
from darbuka.storage import Database, Stores

__all__ = ["SyncPage", "SyncService"]


@dataclass(frozen=True, slots=True)
class SyncPage:
    events: list[dict[str, Any]]
    last_pos: int
    more: bool


class SyncService:
    def __init__(self, db: Database, stores: Stores, settings: Settings,
                 list_chats: Any) -> None:
        self._db = db
        self._stores = stores
        self._page_size = settings.sync_page_size
        self._reset_after = settings.sync_reset_after
        self._list_chats = list_chats

    @staticmethod
    def check_cursor(raw: str | None) -> int | None:
        """None for "no cursor" (a new client); BadRequest for garbage."""
        if raw is None or raw == "":
            return None
        try:
            return parse_cursor(raw)
        except ValueError as exc:
            raise BadRequest(str(exc), code="invalid_cursor") from exc

    async def needs_reset(self, user_id: int, after: int | None) -> bool:
        """A new client, a cursor from the future or from pruned history, or a long backlog."""
        if after is None:
            return True
        async with self._db.read() as conn:
            head = await self._stores.events.head(conn)
            if after > head:
                return True
            oldest = await self._stores.events.oldest(conn)
            if oldest > after + 1:
                return True
            if head - after <= self._reset_after:
                return False
            return await self._stores.events.backlog_exceeds(conn, user_id, after=after,
                                                             cap=self._reset_after)

    async def page(self, user_id: int, after: int, *, upto: int | None = None) -> SyncPage:
        async with self._db.read() as conn:
            rows = await self._stores.events.visible_to(conn, user_id, after=after,
                                                        limit=self._page_size, upto=upto)
        events = [render_stored(pos, payload, user_id) for pos, payload in rows]
        last = rows[-1][0] if rows else after
        return SyncPage(events, last, more=len(rows) == self._page_size)

    async def reset_state(self, user_id: int) -> dict[str, Any]:
        """Fresh state for a client that starts over: the head cursor and the chat list.

        The head is read first: anything committed after it arrives as events, and replaying
        an event whose effect the chat list already shows is harmless for clients.
        """
        async with self._db.read() as conn:
            head = await self._stores.events.head(conn)
        chats = await self._list_chats(user_id)
        return {"reset": True, "cursor": encode_cursor(head), "chats": chats, "events": [],
                "more": False}
