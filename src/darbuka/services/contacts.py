"""Contact discovery: which numbers of my address book are on Darbuka.

Numbers are normalised to E.164 (a number without a country code is read in the uploader's
own country), deduplicated, and kept only as keyed hashes (`PhoneHasher`), so that when
one of them signs up later the uploader hears "X joined Darbuka".

Enumeration is stopped by quotas, not by hiding the answer: an account may look up at most
`contacts_new_per_day` numbers it never uploaded before in any 24 hours, and hold at most
`contacts_max_total` in all. Numbers already uploaded can be checked again freely.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import phonenumbers

from darbuka.errors import RateLimited
from darbuka.services.privacy import allowed
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.views import public_user_view
from darbuka.services.writer import Tx, Writer
from darbuka.settings import Settings
from darbuka.storage import Database, Stores
from darbuka.storage.rows import UserRow

__all__ = ["ContactService", "normalise_many"]

DAY_MS = 24 * 3600 * 1000


def _region_of(own_phone: str | None) -> str | None:
    if not own_phone:
        return None
    try:
        code = phonenumbers.parse(own_phone, None).country_code
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_country_code(code or 0)
    return None if region == "ZZ" else region


def normalise_many(raw: list[Any], own_phone: str | None) -> tuple[list[str], int, int]:
    """(distinct E.164 numbers in upload order, malformed count, duplicate count)."""
    region = _region_of(own_phone)
    numbers: dict[str, None] = {}
    malformed = duplicates = 0
    for item in raw:
        if not isinstance(item, str) or not 3 <= len(item) <= 40:
            malformed += 1
            continue
        try:
            parsed = phonenumbers.parse(item, region)
        except phonenumbers.NumberParseException:
            malformed += 1
            continue
        # The same test as sign-in (`normalise_phone`), so every user can be found.
        if not phonenumbers.is_possible_number(parsed):
            malformed += 1
            continue
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if e164 in numbers:
            duplicates += 1
        numbers[e164] = None
    return list(numbers), malformed, duplicates


class ContactService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, settings: Settings,
                 hasher: Callable[[str], bytes], *, writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        self._settings = settings
        self._hash = hasher

    async def do_import(self, user: UserRow, phones: list[Any]) -> dict[str, Any]:
        await self._writes.check("other", user["id"])
        # Parsing thousands of numbers takes a while: keep it off the event loop.
        numbers, malformed, duplicates = await asyncio.to_thread(normalise_many, phones,
                                                                 user["phone"])
        hashes = {n: self._hash(n) for n in numbers}

        async def store(tx: Tx) -> tuple[list[str], int]:
            accepted, limited = await self._within_quota(tx, user["id"], numbers, hashes)
            rows = await tx.stores.contacts.users_by_phone(tx.conn, accepted)
            visible = await allowed(tx.conn, tx.stores, self._hash, "find_by_phone", user,
                                    [r["id"] for r in rows])
            return [r["phone"] for r in rows if r["id"] in visible and r["phone"]], limited

        found_phones, limited = await self._writer.run(store)
        async with self._db.read() as conn:
            rows = await self._stores.contacts.users_by_phone(conn, found_phones)
        order = {n: i for i, n in enumerate(numbers)}
        # Found by their number: every row here has one.
        users = [{"user": public_user_view(r), "phone": r["phone"]}
                 for r in sorted(rows, key=lambda r: order[r["phone"] or ""])]
        return {"users": users, "malformed": malformed, "duplicates": duplicates,
                "limited": limited}

    async def _within_quota(self, tx: Tx, owner_id: int, numbers: list[str],
                            hashes: dict[str, bytes]) -> tuple[list[str], int]:
        """The numbers this upload may look up, and how many were held back by the quota."""
        known = await tx.stores.contacts.known(tx.conn, owner_id, list(hashes.values()))
        new = [n for n in numbers if hashes[n] not in known]
        if not new:
            return numbers, 0
        s = self._settings
        today = await tx.stores.contacts.count(tx.conn, owner_id, since=tx.now - DAY_MS)
        total = await tx.stores.contacts.count(tx.conn, owner_id)
        room = min(s.contacts_new_per_day - today, s.contacts_max_total - total)
        if room <= 0:
            raise RateLimited("too many new numbers: the daily or lifetime limit of contact "
                              "uploads is reached", retry_after=3600)
        taken = new[:room]
        await tx.stores.contacts.add(tx.conn, owner_id, [hashes[n] for n in taken], tx.now)
        held = set(new[room:])
        return [n for n in numbers if n not in held], len(held)

    async def on_sign_up(self, tx: Tx, user: UserRow) -> None:
        """Tell those who had the new user's number: "X joined Darbuka".

        Runs inside the sign-up transaction; the events go out after it commits. The new
        user's find-by-number setting decides who may hear it.
        """
        if not user["phone"]:
            return
        owners = await tx.stores.contacts.owners_of(tx.conn, self._hash(user["phone"]))
        view = public_user_view(user)
        for owner_id in owners:
            owner = await tx.stores.users.get(tx.conn, owner_id)
            if owner is None or not await allowed(tx.conn, tx.stores, self._hash,
                                                  "find_by_phone", owner, [user["id"]]):
                continue
            await tx.emit("contact.joined", {"user": view, "phone": user["phone"]},
                          user_id=owner_id)
