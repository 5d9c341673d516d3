"""Operators' changes to accounts: staff role, account kind, trusted flagger, verified mark.

One path for all of them (`darbuka admin set-role`, `set-kind` and `verify`): each change is
written to the audit log and told to the account's devices (`user.updated`), in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from darbuka.errors import BadRequest, Conflict, NotFound
from darbuka.kinds import OPERATOR_KINDS, STAFF_ROLES
from darbuka.safety.audit import do_audit
from darbuka.services.auth import normalise_phone
from darbuka.services.handles import normalise
from darbuka.services.views import public_user_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage.rows import UserFields, UserRow

__all__ = ["AccountChange", "AccountService"]


@dataclass(frozen=True, slots=True)
class AccountChange:
    """What to change; None leaves a field as it is."""

    role: str | None = None
    kind: str | None = None
    trusted_flagger: bool | None = None
    verified: bool | None = None

    def values(self) -> UserFields:
        """The column values, checked."""
        if self.role is not None and self.role not in STAFF_ROLES:
            raise BadRequest(f"role must be one of {', '.join(STAFF_ROLES)}",
                             code="invalid_role")
        if self.kind is not None and self.kind not in OPERATOR_KINDS:
            raise BadRequest(f"kind must be one of {', '.join(OPERATOR_KINDS)}",
                             code="invalid_kind")
        values: UserFields = {}
        if self.role is not None:
            values["role"] = self.role
        if self.kind is not None:
            values["kind"] = self.kind
        if self.trusted_flagger is not None:
            values["trusted_flagger"] = self.trusted_flagger
        if self.verified is not None:
            values["verified"] = self.verified
        if not values:
            raise BadRequest("nothing to change", code="nothing_to_change")
        return values


def _action(values: UserFields) -> str:
    for key, action in (("role", "account.role"), ("kind", "account.kind"),
                        ("verified", "account.verified")):
        if key in values:
            return action
    return "account.kind"  # trusted_flagger alone travels with the kind, as before


class AccountService:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def do_change(self, change: AccountChange, *, phone: str | None = None,
                        username: str | None = None) -> UserRow:
        """Change the account with this phone number or @username; returns its row."""
        values = change.values()
        number = normalise_phone(phone) if phone is not None else None
        if (number is None) == (username is None):
            raise BadRequest("name the account by exactly one of phone and username",
                             code="invalid_account")

        async def apply(tx: Tx) -> UserRow:
            user = await _find(tx, number, username)
            if user["kind"] == "bot" and "kind" in values:
                raise Conflict("a bot's kind does not change", code="bot_account")
            await tx.stores.users.update(tx.conn, user["id"], values)
            fresh = await tx.stores.users.get(tx.conn, user["id"])
            assert fresh is not None  # noqa: S101 - exists in this transaction
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=None, action=_action(values),
                           target=f"user:{user['id']}", details={**values, "by": "operator cli"})
            await tx.emit("user.updated", {"user": public_user_view(fresh)}, user_id=fresh["id"])
            return fresh

        result: UserRow = await self._writer.run(apply)
        return result


async def _find(tx: Tx, phone: str | None, username: str | None) -> UserRow:
    if phone is not None:
        user = await tx.stores.users.by_phone(tx.conn, phone)
        if user is None:
            raise NotFound(f"no user has the number {phone}", code="user_not_found")
        return user
    owner = await tx.stores.handles.users_by_keys(tx.conn, {normalise(username or "")})
    found = await tx.stores.users.get(tx.conn, next(iter(owner.values()))) if owner else None
    if found is None:
        raise NotFound("no such account", code="user_not_found")
    return found
