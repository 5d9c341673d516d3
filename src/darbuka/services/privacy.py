"""Privacy: who finds me by number, who sees my last-seen, who adds me to groups; blocks.

Each setting is one of everyone / contacts / nobody. "contacts" means people whose number
*I* uploaded (my address book), as on phones. A block overrides every setting: the blocked
user cannot find me, see my presence, message me directly or add me anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, get_args

from darbuka.errors import BadRequest, Forbidden, NotFound
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.views import public_user_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import UserRow

__all__ = [
    "AUDIENCES",
    "PRIVACY_KEYS",
    "Audience",
    "PhoneHasher",
    "PrivacyService",
    "check_can_add",
    "check_direct_allowed",
]

Audience = Literal["everyone", "contacts", "nobody"]
AUDIENCES: tuple[str, ...] = get_args(Audience)
PRIVACY_KEYS = ("find_by_phone", "last_seen", "group_add")
DEFAULTS = dict.fromkeys(PRIVACY_KEYS, "everyone")


class PhoneHasher:
    """Keyed hashes of phone numbers: the server secret makes them useless outside."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"darbuka contacts v1", hashlib.sha256).digest()

    def __call__(self, e164: str) -> bytes:
        return hmac.new(self._key, e164.encode(), hashlib.sha256).digest()


async def allowed(conn: Conn, stores: Stores, hasher: Callable[[str], bytes],
                  setting: str, viewer: UserRow, targets: list[int]) -> set[int]:
    """Which of `targets` let `viewer` do what `setting` governs."""
    targets = [t for t in dict.fromkeys(targets) if t != viewer["id"]]
    if not targets:
        return set()
    blocked = await stores.privacy.blocked_pairs(conn, [(t, viewer["id"]) for t in targets])
    stored = await stores.privacy.settings(conn, targets)
    audience = {t: stored.get(t, DEFAULTS)[setting] for t in targets
                if (t, viewer["id"]) not in blocked}
    ok = {t for t, a in audience.items() if a == "everyone"}
    if viewer["phone"] and (need := [t for t, a in audience.items() if a == "contacts"]):
        ok |= await stores.contacts.owners_having(conn, need, hasher(viewer["phone"]))
    return ok


async def check_can_add(tx: Tx, hasher: Callable[[str], bytes], adder_id: int,
                        targets: list[int]) -> None:
    """Refuse adding users to a group or channel who do not take adds from `adder_id`."""
    others = [t for t in targets if t != adder_id]
    if not others:
        return
    adder = await tx.stores.users.get(tx.conn, adder_id)
    assert adder is not None  # noqa: S101 - the caller is signed in
    ok = await allowed(tx.conn, tx.stores, hasher, "group_add", adder, others)
    if refused := [t for t in others if t not in ok]:
        raise Forbidden(f"these users do not accept being added by you: {refused[:10]}; "
                        "send them an invite link instead", code="privacy_restricted")


async def check_direct_allowed(tx: Tx, sender_id: int, other_id: int) -> dict[int, str]:
    """Refuse a direct chat with someone who blocked you; else the two members' roles.

    In a direct chat a blocked user has the role "blocked": still a member (history stays),
    but the send path refuses their messages without a query of its own.
    """
    pairs = await tx.stores.privacy.blocked_pairs(tx.conn, [(other_id, sender_id),
                                                            (sender_id, other_id)])
    if (other_id, sender_id) in pairs:
        raise Forbidden("this user does not take messages from you", code="cannot_message")
    return {sender_id: "member", other_id: "blocked" if pairs else "member"}


async def _mark_direct(tx: Tx, blocker: int, blocked: int, *, block: bool) -> None:
    low, high = sorted((blocker, blocked))
    chat = await tx.stores.chats.by_direct_key(tx.conn, f"{low}:{high}")
    if chat is not None:
        await tx.stores.chats.set_role(tx.conn, chat["id"], blocked,
                                       "blocked" if block else "member")


class PrivacyService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 hasher: Callable[[str], bytes],
                 online: Callable[[Iterable[int]], Awaitable[set[int]]],
                 *, writes: WriteLimits) -> None:
        """`online(user_ids)`: which of them have a socket or long poll open, on any
        process (the composition root hands in the cluster's presence)."""
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        self.hasher = hasher
        self._online = online

    async def get(self, user_id: int) -> dict[str, Any]:
        async with self._db.read() as conn:
            stored = await self._stores.privacy.settings(conn, [user_id])
        row = stored.get(user_id, DEFAULTS)
        return {k: row[k] for k in PRIVACY_KEYS}

    async def do_update(self, user_id: int, body: dict[str, Any]) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        values = {k: v for k, v in body.items() if k in PRIVACY_KEYS and v is not None}
        if not values:
            raise BadRequest("send any of find_by_phone, last_seen, group_add",
                             code="nothing_to_change")
        if bad := [k for k, v in values.items() if v not in AUDIENCES]:
            raise BadRequest(f"{bad[0]} must be everyone, contacts or nobody",
                             code="invalid_privacy")

        async def put(tx: Tx) -> None:
            await tx.stores.privacy.put(tx.conn, user_id, values)
            await tx.emit("privacy.updated", {"privacy": values}, user_id=user_id)

        await self._writer.run(put)
        return await self.get(user_id)

    # -- blocks ---------------------------------------------------------------------------

    async def do_block(self, user_id: int, target: int, *, block: bool) -> None:
        await self._writes.check("other", user_id)
        if target == user_id:
            raise BadRequest("you cannot block yourself", code="invalid_user_id")

        async def change(tx: Tx) -> None:
            if not await tx.stores.users.existing_ids(tx.conn, [target]):
                raise NotFound("no such user", code="user_not_found")
            if block:
                changed = await tx.stores.privacy.block(tx.conn, user_id, target, tx.now)
            else:
                changed = await tx.stores.privacy.unblock(tx.conn, user_id, target)
            if changed:
                await _mark_direct(tx, user_id, target, block=block)
                # Only the blocker's devices hear of it; the blocked user is not told.
                await tx.emit("user.blocked" if block else "user.unblocked",
                              {"user_id": target}, user_id=user_id)

        await self._writer.run(change)

    async def blocked(self, user_id: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = await self._stores.privacy.blocked_by(conn, user_id)
            found = await self._stores.users.by_ids(conn, [r["blocked_id"] for r in rows])
        return [{"user": public_user_view(found[r["blocked_id"]]), "since": r["created_at"]}
                for r in rows if r["blocked_id"] in found]

    # -- presence -------------------------------------------------------------------------

    async def presence(self, viewer: UserRow, target: int) -> dict[str, Any]:
        """online / offline with last_seen_at, or hidden when the target's setting says so.

        Last seen is when a device of theirs last called (kept to about 10 minutes).
        """
        async with self._db.read() as conn:
            if not await self._stores.users.existing_ids(conn, [target]):
                raise NotFound("no such user", code="user_not_found")
            if target != viewer["id"] and not await allowed(
                    conn, self._stores, self.hasher, "last_seen", viewer, [target]):
                return {"user_id": target, "status": "hidden"}
            devices = await self._stores.devices.for_user(conn, target)
        if target in await self._online([target]):
            return {"user_id": target, "status": "online"}
        seen = max((d["last_seen_at"] for d in devices), default=None)
        view: dict[str, Any] = {"user_id": target, "status": "offline"}
        if seen is not None:
            view["last_seen_at"] = seen
        return view
