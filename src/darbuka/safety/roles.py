"""Who may do what in trust and safety. Staff roles live in `users.role` — user (everyone),
moderator (reviews, reads banks), operator (runs the service: manages banks, orders by mail,
preserved copies, roles) — and are set only by operators. `authority` is an account kind,
for removal orders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.errors import BadRequest, Forbidden, NotFound
from darbuka.storage.schema import users

__all__ = ["MODERATORS", "OPERATORS", "ROLES", "check_authority", "check_role", "check_staff",
           "role_of", "set_role"]

ROLES = ("user", "moderator", "operator")
MODERATORS = frozenset({"moderator", "operator"})
OPERATORS = frozenset({"operator"})


def role_of(user: Mapping[str, Any]) -> str:
    """The role on a user row (rows from before the column existed count as users)."""
    role = user.get("role") or "user"
    return str(role) if role in ROLES else "user"


def check_role(user: Mapping[str, Any], allowed: frozenset[str]) -> str:
    """For the bank routes: a clear 403 naming the role needed."""
    role = role_of(user)
    if role not in allowed:
        need = " or ".join(sorted(allowed))
        raise Forbidden(f"this needs the {need} role", code="role_required")
    return role


def check_staff(user: Mapping[str, Any], roles: frozenset[str] = MODERATORS) -> None:
    """For the queue, orders and preservation: outsiders learn nothing (404); a moderator
    asking for an operator's route is told so (403)."""
    role = role_of(user)
    if role not in roles:
        if role in MODERATORS:
            raise Forbidden("this needs an operator", code="operators_only")
        raise NotFound("no such page", code="not_found")


def check_authority(user: Mapping[str, Any]) -> None:
    """Removal orders come from accounts of kind `authority`, or are entered by operators."""
    if user.get("kind") != "authority" and role_of(user) not in OPERATORS:
        raise NotFound("no such page", code="not_found")


async def set_role(conn: AsyncConnection, user_id: int, role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    await conn.execute(update(users).where(users.c.id == user_id).values(role=role))
