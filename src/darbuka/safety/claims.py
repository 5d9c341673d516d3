"""Claims on queue items: a moderator takes an item so that two do not work the same one.

A claim is a promise, not a lock held by a connection: it lapses by itself `CLAIM_MS` after
it was made (a moderator who walks away does not hold the item forever), and claiming again
renews it. While it holds, another moderator's claim is refused (409) and so is their
decision; an operator may decide or release anyone's claim (they run the queue).
"""

from __future__ import annotations

from typing import Any

from darbuka.errors import Conflict, NotFound
from darbuka.kinds import OPERATORS
from darbuka.safety.roles import is_staff
from darbuka.services.writer import Tx
from darbuka.storage import Conn, Stores
from darbuka.storage.rows import UserRow

__all__ = ["CLAIM_MS", "check_claim", "claim_view", "do_claim", "do_release", "live_claimer"]

CLAIM_MS = 15 * 60 * 1000


def live_claimer(item: dict[str, Any], now: int) -> int | None:
    """Who holds the item's claim now (None: nobody, or it lapsed)."""
    by, at = item.get("claimed_by"), item.get("claimed_at")
    if by is None or at is None or at + CLAIM_MS <= now:
        return None
    return int(by)


async def claim_view(conn: Conn, stores: Stores, item: dict[str, Any],
                     now: int) -> dict[str, Any]:
    """`claimed_by`, `claimed_by_name`, `claimed_at`, `claim_expires_at` (nulls if free)."""
    by = live_claimer(item, now) if item["status"] == "open" else None
    if by is None:
        return {"claimed_by": None, "claimed_by_name": None, "claimed_at": None,
                "claim_expires_at": None}
    user = await stores.users.get(conn, by)
    return {"claimed_by": by, "claimed_by_name": user["display_name"] if user else None,
            "claimed_at": item["claimed_at"], "claim_expires_at": item["claimed_at"] + CLAIM_MS}


def check_claim(item: dict[str, Any], staff: UserRow, now: int) -> None:
    """Refuse a decision on an item another moderator holds (operators may)."""
    by = live_claimer(item, now)
    if by is not None and by != staff["id"] and not is_staff(staff, OPERATORS):
        raise Conflict("another moderator has claimed this item", code="item_claimed")


async def do_claim(tx: Tx, staff: UserRow, item_id: int) -> dict[str, Any]:
    item = await _open_item(tx, item_id)
    if not await tx.stores.safety.claim_item(tx.conn, item_id, staff["id"], tx.now,
                                             lapsed_at=tx.now - CLAIM_MS):
        raise Conflict("another moderator has claimed this item", code="item_claimed")
    return {"item_id": item_id, **await claim_view(
        tx.conn, tx.stores, {**item, "claimed_by": staff["id"], "claimed_at": tx.now}, tx.now)}


async def do_release(tx: Tx, staff: UserRow, item_id: int) -> dict[str, Any]:
    """Give the item back. Releasing an item nobody holds is fine; another's is refused,
    except to operators."""
    item = await _open_item(tx, item_id)
    by = live_claimer(item, tx.now)
    operator = is_staff(staff, OPERATORS)
    if by is not None and by != staff["id"] and not operator:
        raise Conflict("another moderator has claimed this item", code="item_claimed")
    await tx.stores.safety.release_item(tx.conn, item_id, None if operator else staff["id"])
    return {"item_id": item_id, **await claim_view(
        tx.conn, tx.stores, {**item, "claimed_by": None}, tx.now)}


async def _open_item(tx: Tx, item_id: int) -> dict[str, Any]:
    item = await tx.stores.safety.item(tx.conn, item_id)
    if item is None:
        raise NotFound("no such item", code="item_not_found")
    if item["status"] != "open":
        raise Conflict("this item was decided already", code="already_decided")
    return item
