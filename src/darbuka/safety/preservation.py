"""Preserved copies of removed content (Regulation 2021/784 Art. 6): kept six months, longer
on an authority's request, readable only by operators — every read is audited — and then
purged by themselves."""

from __future__ import annotations

from typing import Any

import orjson

from darbuka.errors import BadRequest, NotFound
from darbuka.kinds import OPERATORS
from darbuka.safety.audit import do_audit
from darbuka.safety.roles import check_staff
from darbuka.services.writer import Tx, Writer
from darbuka.storage.rows import UserRow

__all__ = ["PreservationService"]

DAY_MS = 24 * 3600 * 1000


class PreservationService:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def do_read(self, operator: UserRow, copy_id: int) -> dict[str, Any]:
        """Reading is an action: it goes through the writer so the audit record commits."""
        check_staff(operator, OPERATORS)

        async def read(tx: Tx) -> dict[str, Any]:
            copy = await tx.stores.safety.preserved_copy(tx.conn, copy_id)
            if copy is None:
                raise NotFound("no such preserved copy (or it was purged)",
                               code="preserved_not_found")
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=operator["id"],
                           action="preserved.read", target=f"preserved:{copy_id}")
            return _view(copy) | {"content": orjson.loads(copy["content"])}

        return await self._writer.run(read)

    async def do_find(self, operator: UserRow, target_type: str,
                      target_id: int) -> dict[str, Any]:
        """Which copy holds a message (without reading it)."""
        check_staff(operator, OPERATORS)

        async def find(tx: Tx) -> dict[str, Any]:
            copy = await tx.stores.safety.preserved_for(tx.conn, target_type, target_id)
            if copy is None:
                raise NotFound("nothing preserved for this", code="preserved_not_found")
            return _view(copy)

        return await self._writer.run(find)

    async def do_list(self, operator: UserRow, *, before: int | None,
                      limit: int) -> list[dict[str, Any]]:
        """The copies kept, newest first, with their purge dates (without their content:
        reading one is `do_read`, audited)."""
        check_staff(operator, OPERATORS)

        async def page(tx: Tx) -> list[dict[str, Any]]:
            rows = await tx.stores.safety.preserved_page(tx.conn, before=before, limit=limit)
            return [_view(r) | {"reinstated_at": r["reinstated_at"]} for r in rows]

        return await self._writer.run(page)

    async def do_extend(self, operator: UserRow, copy_id: int,
                        days: int) -> dict[str, Any]:
        """Keep a copy longer, e.g. on an authority's request for a review or proceedings."""
        check_staff(operator, OPERATORS)
        if not 1 <= days <= 3650:
            raise BadRequest("days must be 1 to 3650", code="invalid_days")

        async def extend(tx: Tx) -> dict[str, Any]:
            copy = await tx.stores.safety.preserved_copy(tx.conn, copy_id)
            if copy is None:
                raise NotFound("no such preserved copy", code="preserved_not_found")
            keep_until = max(copy["keep_until"], tx.now + days * DAY_MS)
            await tx.stores.safety.extend_preservation(tx.conn, copy_id, keep_until)
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=operator["id"],
                           action="preserved.extended", target=f"preserved:{copy_id}",
                           details={"keep_until": keep_until})
            return _view({**copy, "keep_until": keep_until})

        return await self._writer.run(extend)

    async def do_purge(self) -> list[int]:
        async def purge(tx: Tx) -> list[int]:
            ids = await tx.stores.safety.purge_preserved(tx.conn, tx.now)
            if ids:
                await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=None,
                               action="preserved.purged", target="preserved",
                               details={"ids": ids})
            return ids

        return await self._writer.run(purge)


def _view(copy: dict[str, Any]) -> dict[str, Any]:
    return {k: copy[k] for k in ("id", "target_type", "target_id", "reason", "item_id",
                                 "preserved_at", "keep_until")}
