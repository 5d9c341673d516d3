"""Catch-up: the events a user may see after a cursor, in bounded slices, or a reset; and
the long poll that waits for the next ones (the HTTP `/sync` and the Bot API's `/updates`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from darbuka.errors import BadRequest
from darbuka.services.access import stored_event_for
from darbuka.services.auth import signed_out, signs_out
from darbuka.services.hub import Hub
from darbuka.settings import Settings
from darbuka.storage import Database, Stores
from darbuka.stream import Ephemeral, Event, encode_cursor, epoch_of, parse_cursor

__all__ = ["SETTLE_S", "SyncPage", "SyncService"]

# A long poll asks this often whether its caller hung up.
HANGUP_CHECK_S = 1.0
# A long poll woken by an event past the stream's complete head (PostgreSQL: it committed,
# but a write from before it may still come) looks again after this (about one write).
SETTLE_S = 0.005


@dataclass(frozen=True, slots=True)
class SyncPage:
    events: list[dict[str, Any]]
    last_pos: int
    more: bool
    # The position the page was read up to, when the stream bounded it (PostgreSQL).
    bound: int | None = None


class _PollSink:
    """The hub's sink for one long poll: it only needs to know that something arrived, and
    whether that was the sign-out of the device polling."""

    __slots__ = ("device_id", "latest", "signed_out", "user_id", "woken")

    def __init__(self, user_id: int, device_id: int | None) -> None:
        self.user_id = user_id
        self.device_id = device_id
        self.signed_out = False
        self.woken = asyncio.Event()
        self.latest = 0

    def push(self, event: Event) -> None:
        if signs_out(event.type, event.body, self.device_id):
            self.signed_out = True
        self.latest = max(self.latest, event.pos)
        self.woken.set()

    def push_ephemeral(self, notice: Ephemeral) -> None:
        return None


class SyncService:
    def __init__(self, db: Database, stores: Stores, settings: Settings, hub: Hub,
                 list_chats: Callable[[int], Awaitable[list[dict[str, Any]]]]) -> None:
        self._db = db
        self._stores = stores
        self._hub = hub
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
        """A new client, a cursor from the future, from another stream epoch (the database
        was restored from a backup since), from pruned history, or a long backlog."""
        if after is None:
            return True
        async with self._db.read() as conn:
            # The highest position handed out: a cursor may lie past the complete head
            # (a socket was told of a later event already), never past this.
            _, top = await self._stores.events.bounds(conn)
            if after > top or epoch_of(after) != epoch_of(top):
                return True
            oldest = await self._stores.events.oldest(conn)
            if oldest > after + 1:
                return True
            if top - after <= self._reset_after:
                return False
            return await self._stores.events.backlog_exceeds(conn, user_id, after=after,
                                                             cap=self._reset_after)

    async def page(self, user_id: int, after: int, *, upto: int | None = None) -> SyncPage:
        async with self._db.read() as conn:
            # Never past a position that may still come (None: every one is in order).
            bound = await self._stores.events.read_bound(conn)
            if bound is not None:
                upto = bound if upto is None else min(upto, bound)
            rows = await self._stores.events.visible_to(conn, user_id, after=after,
                                                        limit=self._page_size, upto=upto)
        events = [stored_event_for(pos, payload, user_id) for pos, payload in rows]
        last = rows[-1][0] if rows else after
        return SyncPage(events, last, more=len(rows) == self._page_size, bound=bound)

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

    async def wait_page(self, user_id: int, after: int, *, device_id: int | None,
                        wait_s: float,
                        gone: Callable[[], Awaitable[bool]] | None = None) -> SyncPage:
        """The next page after `after`, waiting up to `wait_s` seconds for one to exist.

        Attach to the hub first, then look, then wait: an event committed between the look
        and the wait wakes the sink, so nothing slips between. `gone` tells whether the
        caller hung up; it is asked every HANGUP_CHECK_S, so a closed poll does not hold
        the server (and its shutdown) for the rest of its timeout. An empty page means the
        time ran out (or the caller left).

        `device_id` is the device polling (None: no device's, a webhook): once it is signed
        out — the event reaches the sink, or lies in the page — the poll answers 401.
        """
        page = self._check_signed_in(await self.page(user_id, after), device_id)
        if page.events or wait_s <= 0:
            return page  # the common case needs no sink
        sink = _PollSink(user_id, device_id)
        await self._hub.attach(sink)
        # Dispatched before the sink attached: a page must reach it (see `Hub.dispatched`).
        sink.latest = self._hub.dispatched
        try:
            deadline = time.monotonic() + wait_s
            while True:
                sink.woken.clear()
                page = self._check_signed_in(await self.page(user_id, after), device_id)
                remaining = deadline - time.monotonic()
                if page.events or remaining <= 0:
                    return page
                wait = HANGUP_CHECK_S
                if page.bound is not None and sink.latest > page.bound:
                    wait = SETTLE_S  # it committed; the head's proof follows shortly
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(remaining, wait)):
                        await sink.woken.wait()
                if sink.signed_out:
                    raise signed_out()
                if gone is not None and await gone():
                    return SyncPage([], after, more=False)
        finally:
            self._hub.detach(sink)

    @staticmethod
    def _check_signed_in(page: SyncPage, device_id: int | None) -> SyncPage:
        if any(signs_out(e["type"], e, device_id) for e in page.events):
            raise signed_out()
        return page
