"""The small vocabulary every layer shares: account kinds and staff roles.

Kinds say what an account is (a person, a blogger, a brand, an authority that sends removal
orders, a bot); roles say what its holder may do in trust and safety. Both are stored on the
user row and listed here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

__all__ = ["ACCOUNT_KINDS", "MODERATORS", "OPERATORS", "OPERATOR_KINDS", "SELF_KINDS",
           "STAFF_ROLES", "SelfKind", "StaffRole", "role_of"]

# Every kind an account row may have.
# `imported`: a placeholder an import made for an author nobody here matched; it has no
# phone and no device, so nobody signs in as it.
ACCOUNT_KINDS = ("person", "blogger", "brand", "authority", "bot", "imported")
# What people choose for themselves (PATCH /me). The Literal types here are what request
# bodies declare; the tuples are the same lists for checks and messages.
SelfKind = Literal["person", "blogger", "brand"]
SELF_KINDS: tuple[str, ...] = get_args(SelfKind)
# What an operator may set. `bot` is never set nor taken away: bot tokens work only on the
# Bot API and people's only on the user API, and the kind is what tells them apart.
OPERATOR_KINDS = ("person", "blogger", "brand", "authority")

# user: everyone. moderator: reviews the queue, reads banks. operator: runs the service
# (banks, orders by mail, preserved copies, roles). Set only by operators.
StaffRole = Literal["user", "moderator", "operator"]
STAFF_ROLES: tuple[str, ...] = get_args(StaffRole)
MODERATORS = frozenset({"moderator", "operator"})
OPERATORS = frozenset({"operator"})


def role_of(user: Mapping[str, Any]) -> str:
    """The staff role on a user row (rows from before the column existed count as users)."""
    role = user.get("role") or "user"
    return str(role) if role in STAFF_ROLES else "user"
