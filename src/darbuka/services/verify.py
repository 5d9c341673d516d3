"""Operators mark accounts verified (`darbuka admin verify`)."""

from __future__ import annotations

from typing import Any

from darbuka.errors import BadRequest, NotFound
from darbuka.services.auth import normalise_phone
from darbuka.services.handles import normalise
from darbuka.services.users import USER_KINDS
from darbuka.services.views import public_user_view
from darbuka.services.writer import Tx, Writer

__all__ = ["do_verify"]


async def do_verify(writer: Writer, *, username: str | None, phone: str | None,
                    kind: str | None, verified: bool) -> dict[str, Any]:
    if kind is not None and kind not in USER_KINDS:
        raise BadRequest("kind must be person, blogger or brand", code="invalid_kind")
    number = normalise_phone(phone) if phone else None

    async def mark(tx: Tx) -> dict[str, Any]:
        if number is not None:
            user = await tx.stores.users.by_phone(tx.conn, number)
        else:
            owner = await tx.stores.handles.users_by_keys(tx.conn, {normalise(username or "")})
            user = (await tx.stores.users.get(tx.conn, next(iter(owner.values())))
                    if owner else None)
        if user is None:
            raise NotFound("no such account", code="user_not_found")
        values: dict[str, Any] = {"verified": verified}
        if kind is not None:
            values["kind"] = kind
        await tx.stores.users.update(tx.conn, user["id"], values)
        fresh = await tx.stores.users.get(tx.conn, user["id"])
        assert fresh is not None  # noqa: S101 - exists in this transaction
        await tx.emit("user.updated", {"user": public_user_view(fresh)}, user_id=fresh["id"])
        return fresh

    return await writer.run(mark)
