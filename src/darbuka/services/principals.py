"""Who a token belongs to, remembered for a moment so that a request does not read it twice.

Every request used to read its device and its user (two statements, a tenth of an HTTP
send's time). The cache keeps both for `TTL_S` and forgets a user's entries at once on
the events that change what authentication decides — a device signed out, an account
restricted or a user updated — which reach every server process over the bus. A change
that comes without an event (an operator's edit straight in the database) is seen within
`TTL_S`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from darbuka.storage.rows import DeviceRow, UserRow
from darbuka.stream import Event

__all__ = ["PrincipalCache"]

TTL_S = 1.0
MAX_ENTRIES = 100_000
# The events after which a user's cached rows may be wrong (an upheld appeal may lift a
# suspension, which has no event of its own).
CHANGES = frozenset({"device.revoked", "account.restricted", "user.updated",
                     "appeal.decided"})


class PrincipalCache:
    def __init__(self, *, ttl_s: float = TTL_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._entries: dict[bytes, tuple[float, DeviceRow, UserRow]] = {}
        self._by_user: dict[int, set[bytes]] = {}

    def get(self, token_hash: bytes) -> tuple[DeviceRow, UserRow] | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if self._monotonic() - entry[0] > self._ttl_s:
            self._drop(token_hash, int(entry[2]["id"]))
            return None
        return entry[1], entry[2]

    def put(self, token_hash: bytes, device: DeviceRow, user: UserRow) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
            self._by_user.clear()
        self._entries[token_hash] = (self._monotonic(), device, user)
        self._by_user.setdefault(int(user["id"]), set()).add(token_hash)

    def touched(self, token_hash: bytes, now_ms: int) -> None:
        """The device's `last_seen_at` was just written: the cached copy says so too, so
        the next request does not write it again."""
        entry = self._entries.get(token_hash)
        if entry is not None:
            self._entries[token_hash] = (entry[0], {**entry[1], "last_seen_at": now_ms},
                                         entry[2])

    def forget_user(self, user_id: int) -> None:
        for token_hash in self._by_user.pop(user_id, ()):
            self._entries.pop(token_hash, None)

    def on_events(self, events: list[Event]) -> None:
        """Called by the bus with every committed event, before anything is delivered."""
        for event in events:
            if event.type not in CHANGES:
                continue
            if event.user_id is not None:
                self.forget_user(event.user_id)
            user = event.body.get("user")
            if isinstance(user, dict) and isinstance(user.get("id"), int):
                self.forget_user(user["id"])

    def _drop(self, token_hash: bytes, user_id: int) -> None:
        self._entries.pop(token_hash, None)
        hashes = self._by_user.get(user_id)
        if hashes is not None:
            hashes.discard(token_hash)
            if not hashes:
                del self._by_user[user_id]
