"""Who may do what in trust and safety. Staff roles live on the user row and are set only by
operators (`darbuka admin set-role`); `authority` is an account kind, for removal orders."""

from __future__ import annotations

from typing import Any

from darbuka.errors import Forbidden, NotFound

__all__ = ["MODERATORS", "OPERATORS", "check_authority", "check_staff"]

MODERATORS = frozenset({"moderator", "operator"})
OPERATORS = frozenset({"operator"})


def check_staff(user: dict[str, Any], roles: frozenset[str] = MODERATORS) -> None:
    """Raise unless the user holds one of `roles`. Outsiders learn nothing (404)."""
    if user.get("role") not in roles:
        if user.get("role") in MODERATORS:
            raise Forbidden("this needs an operator", code="operators_only")
        raise NotFound("no such page", code="not_found")


def check_authority(user: dict[str, Any]) -> None:
    """Removal orders come from accounts of kind `authority`, or are entered by operators."""
    if user.get("kind") != "authority" and user.get("role") not in OPERATORS:
        raise NotFound("no such page", code="not_found")
