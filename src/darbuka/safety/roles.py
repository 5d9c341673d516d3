"""Who may do what in trust and safety: the checks on a caller's staff role or account kind.

The roles and kinds themselves are listed once in `darbuka/kinds.py`; they are set only by
operators (`safety/accounts.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from darbuka.errors import Forbidden, NotFound
from darbuka.kinds import MODERATORS, OPERATORS, STAFF_ROLES, role_of

__all__ = ["check_authority", "check_may_decide", "check_role", "check_staff", "is_staff"]


def is_staff(user: Mapping[str, Any], roles: frozenset[str] = MODERATORS) -> bool:
    return role_of(user) in roles


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


def check_may_decide(actor: Mapping[str, Any], affected: Mapping[str, Any], *,
                     on_account: bool) -> None:
    """Nobody decides about their own content or account: another moderator does, as with
    appeals. Suspending and banning (`on_account`) reach only accounts below the actor's
    role: a moderator's users, an operator's users and moderators.

    Content is judged the same whoever posted it (an order must be carried out all the
    same), so removing a staff member's message or closing their chat needs no rank."""
    if actor["id"] == affected["id"]:
        raise Forbidden("another moderator decides about your own content or account",
                        code="own_case")
    if on_account and STAFF_ROLES.index(role_of(affected)) >= STAFF_ROLES.index(role_of(actor)):
        raise Forbidden("staff suspend and ban only accounts below their own role",
                        code="outranked")
