"""Operators' changes to accounts: staff roles, account kinds, trusted flaggers. Each one is
written to the audit log."""

from __future__ import annotations

from typing import Any

from darbuka.errors import BadRequest, NotFound
from darbuka.safety.audit import do_audit
from darbuka.services.auth import normalise_phone
from darbuka.services.views import user_view
from darbuka.services.writer import Tx

__all__ = ["KINDS", "ROLES", "do_set_kind", "do_set_staff_role"]

ROLES = ("user", "moderator", "operator")
KINDS = ("person", "blogger", "brand", "authority")


async def do_set_staff_role(services: Any, raw_phone: str, *, role: str) -> dict[str, Any]:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    return await _change(services, raw_phone, "account.role", {"role": role})


async def do_set_kind(services: Any, raw_phone: str, *, kind: str,
                      trusted: bool | None = None) -> dict[str, Any]:
    if kind not in KINDS:
        raise BadRequest(f"kind must be one of {', '.join(KINDS)}", code="invalid_kind")
    values: dict[str, Any] = {"kind": kind}
    if trusted is not None:
        values["trusted_flagger"] = trusted
    return await _change(services, raw_phone, "account.kind", values)


async def _change(services: Any, raw_phone: str, action: str,
                  values: dict[str, Any]) -> dict[str, Any]:
    phone = normalise_phone(raw_phone)

    async def change(tx: Tx) -> dict[str, Any]:
        user = await tx.stores.users.by_phone(tx.conn, phone)
        if user is None:
            raise NotFound(f"no user has the number {phone}", code="user_not_found")
        await tx.stores.users.update(tx.conn, user["id"], values)
        await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=None, action=action,
                       target=f"user:{user['id']}", details={**values, "by": "operator cli"})
        return user_view({**user, **values})

    result: dict[str, Any] = await services.writer.run(change)
    return result
