"""Muting a chat: for a while or until turned off, optionally letting @mentions through.

A mute is stored as the time it ends, and whether it holds is worked out against the time
asked about, so an ending mute needs no write (and no sweep). "Until turned off" is stored
as an end past any real time. The mute is the member's own: it reaches their devices as a
`mute.updated` event and sits in their chat list; nobody else is told.

Push asks `MuteService.muted` whether a chat is muted for its recipients at a given time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from darbuka.errors import BadRequest
from darbuka.services.access import access_chat
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores

__all__ = ["MAX_MUTE_S", "MIN_MUTE_S", "Mute", "MuteService", "active_mute", "mute_view"]

# Stored for "until turned off": later than any real time, below 2**63 and 2**53.
FOREVER = 2**52
MIN_MUTE_S = 60
MAX_MUTE_S = 366 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Mute:
    until: int | None  # ms since the epoch; None: until turned off
    mentions: bool  # @mentions of the member still notify


def active_mute(muted_until: int | None, mentions: bool, at: int) -> Mute | None:
    """The mute in force at `at` (ms), if any: the one rule of when a mute holds."""
    if muted_until is None or muted_until <= at:
        return None
    return Mute(None if muted_until >= FOREVER else muted_until, mentions)


def mute_view(muted_until: int | None, mentions: bool, at: int) -> dict[str, Any] | None:
    mute = active_mute(muted_until, mentions, at)
    return None if mute is None else {"until": mute.until, "mentions": mute.mentions}


def _check_duration(for_s: Any) -> int | None:
    if for_s is None:
        return None
    if (not isinstance(for_s, int) or isinstance(for_s, bool)
            or not MIN_MUTE_S <= for_s <= MAX_MUTE_S):
        raise BadRequest(f"for_s must be {MIN_MUTE_S} to {MAX_MUTE_S} seconds, or null for "
                         "until turned off", code="invalid_duration")
    return for_s


class MuteService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, *,
                 writes: WriteLimits) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._writes = writes

    async def do_mute(self, user_id: int, chat_id: int, *, for_s: Any,
                      mentions: Any) -> dict[str, Any]:
        """Mute for `for_s` seconds (None: until turned off); `mentions`: let @mentions of
        the member through."""
        await self._writes.check("other", user_id)
        duration = _check_duration(for_s)
        if not isinstance(mentions, bool):
            raise BadRequest("mentions must be true or false", code="invalid_mentions")

        async def mute(tx: Tx) -> dict[str, Any]:
            until = FOREVER if duration is None else tx.now + duration * 1000
            return await self._set(tx, user_id, chat_id, until, mentions)

        return await self._writer.run(mute)

    async def do_unmute(self, user_id: int, chat_id: int) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        return await self._writer.run(lambda tx: self._set(tx, user_id, chat_id, None, False))

    @staticmethod
    async def _set(tx: Tx, user_id: int, chat_id: int, until: int | None,
                   mentions: bool) -> dict[str, Any]:
        await access_chat(tx.conn, tx.stores, user_id, chat_id)
        await tx.stores.preferences.set_mute(tx.conn, chat_id, user_id, until=until,
                                             mentions=mentions)
        body = {"chat_id": chat_id, "mute": mute_view(until, mentions, tx.now)}
        await tx.emit("mute.updated", body, user_id=user_id)
        return body

    async def muted(self, chat_id: int, user_ids: list[int], at: int) -> dict[int, Mute]:
        """Which of `user_ids` have `chat_id` muted at `at` (ms), and whether their
        @mentions still notify: what push asks before it notifies anyone."""
        async with self._db.read() as conn:
            stored = await self._stores.preferences.mutes(conn, chat_id, user_ids)
        found = {u: active_mute(until, mentions, at) for u, (until, mentions) in stored.items()}
        return {u: mute for u, mute in found.items() if mute is not None}
