"""The console's media previews, and each moderator's settings for them.

A moderator judges a file wherever it is: held for review (served to nobody else), already
removed (its blobs are the preserved copy), or in a chat they are not a member of. The
preview serves the file an item names in any of those states, to staff only. Viewing a
*removed* file is reading a preserved copy, so, as there (`preservation.py`), each viewing is
in the audit log; a held or reported file is the ordinary review work, as the queue itself.

The wellness settings (blur, greyscale, muted audio, video as a strip of keyframes) are
stored here per moderator rather than in the browser: they follow the moderator to every
device, and a shared workstation's storage never carries one moderator's "show everything"
over to the next.
"""

from __future__ import annotations

from typing import Any

import orjson

from darbuka.errors import NotFound
from darbuka.safety.audit import do_audit
from darbuka.safety.context import item_media_id
from darbuka.safety.roles import check_staff
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import MediaRow, UserRow

__all__ = ["DEFAULT_SETTINGS", "PreviewService"]

# Everything hidden until a deliberate click: the defaults of the field's wellness guidance.
DEFAULT_SETTINGS: dict[str, bool] = {"blur": True, "greyscale": True, "muted": True,
                                     "video_strip": True}
_SHOWN = ("ready", "held", "removed")


class PreviewService:
    def __init__(self, db: Database, stores: Stores, writer: Writer) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer

    async def media_for(self, staff: UserRow, item_id: int, variant: str, *,
                        audit: bool) -> MediaRow:
        """The media row of the item's file (the caller serves the variant). `audit`: this
        request starts a viewing (not a later byte range of the same one)."""
        check_staff(staff)
        async with self._db.read() as conn:
            item = await self._stores.safety.item(conn, item_id)
            if item is None:
                raise NotFound("no such item", code="item_not_found")
            media_id = await item_media_id(conn, self._stores, item)
            row = await self._stores.media.get(conn, media_id) if media_id else None
        if row is None or row["state"] not in _SHOWN:
            raise NotFound("this item has no file to show", code="media_not_found")
        if row["state"] == "removed" and audit:
            await self._writer.run(lambda tx: _audit_view(tx, staff, item_id, row, variant))
        return row

    async def settings(self, staff: UserRow) -> dict[str, bool]:
        check_staff(staff)
        async with self._db.read() as conn:
            stored = await self._stores.safety.moderator_settings(conn, staff["id"])
        return _merged(stored)

    async def do_set_settings(self, staff: UserRow, changes: dict[str, bool]) -> dict[str, bool]:
        """Change some settings (the others stay); answers all of them."""
        check_staff(staff)

        async def save(tx: Tx) -> dict[str, bool]:
            stored = await tx.stores.safety.moderator_settings(tx.conn, staff["id"])
            values = _merged(stored) | {k: bool(v) for k, v in changes.items()
                                        if k in DEFAULT_SETTINGS}
            await tx.stores.safety.set_moderator_settings(
                tx.conn, staff["id"], orjson.dumps(values).decode(), tx.now)
            return values

        return await self._writer.run(save)


def _merged(stored: str | None) -> dict[str, bool]:
    values = dict(DEFAULT_SETTINGS)
    if stored:
        saved: dict[str, Any] = orjson.loads(stored)
        values |= {k: bool(v) for k, v in saved.items() if k in DEFAULT_SETTINGS}
    return values


async def _audit_view(tx: Tx, staff: UserRow, item_id: int, row: MediaRow,
                      variant: str) -> None:
    await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=staff["id"],
                   action="media.previewed", target=f"media:{row['id']}",
                   details={"item": item_id, "variant": variant, "state": row["state"]})
