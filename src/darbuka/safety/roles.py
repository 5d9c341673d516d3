"""Safety roles: user (everyone), moderator (reviews, reads banks), operator (runs the
service: manages banks, grants roles). Stored in `users.role`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.errors import BadRequest, Forbidden
from darbuka.storage.schema import users

__all__ = ["MODERATORS", "OPERATORS", "ROLES", "check_role", "role_of", "set_role"]

ROLES = ("user", "moderator", "operator")
MODERATORS = frozenset({"moderator", "operator"})
OPERATORS = frozenset({"operator"})


def role_of(user: Mapping[str, Any]) -> str:
    """The role on a user row (rows from before the column existed count as users)."""
    role = user.get("role") or "user"
    return str(role) if role in ROLES else "user"


def check_role(user: Mapping[str, Any], allowed: frozenset[str]) -> str:
    role = role_of(user)
    if role not in allowed:
        need = " or ".join(sorted(allowed))
        raise Forbidden(f"this needs the {need} role", code="role_required")
    return role


async def set_role(conn: AsyncConnection, user_id: int, role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    await conn.execute(update(users).where(users.c.id == user_id).values(role=role))
