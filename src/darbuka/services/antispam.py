"""Anti-spam: limits for new accounts, and the same content sent into many chats.

- An account is new for its first `new_account_hours`. Meanwhile it makes at most
  `new_account_chats` groups and channels and starts at most `new_account_direct_chats`
  direct chats. Counted from the chats table (`chats.created_by`), in the creating
  transaction: exact across processes, and a direct chat that exists already costs nothing.
- One account sending the same content — a text of at least `spam_min_text` characters
  (case and spacing ignored), the same uploads, or a forward of the same message — into
  more than `spam_same_content_chats` chats within `spam_window_s` has the send held for a
  moderator's review (`Spread`). Counted in the rate limiter (Redis when processes share
  one), once per chat, so repeating a message in one chat is not spreading it.
"""

from __future__ import annotations

import hashlib
import math

from darbuka.errors import RateLimited
from darbuka.services.ratelimit import RateLimiter
from darbuka.services.sending import SendRequest
from darbuka.services.writer import Tx
from darbuka.settings import Settings

__all__ = ["NewAccountLimits", "Spread"]

HOUR_MS = 3600 * 1000


class NewAccountLimits:
    def __init__(self, settings: Settings) -> None:
        self._new_ms = settings.new_account_hours * HOUR_MS
        self._limits = {True: settings.new_account_direct_chats,
                        False: settings.new_account_chats}

    async def check_create(self, tx: Tx, user_id: int, *, direct: bool) -> None:
        """Raise RateLimited if `user_id` is a new account that made its share of chats of
        this sort; call it in the transaction that creates the chat."""
        user = await tx.stores.users.get(tx.conn, user_id)
        if user is None or tx.now - user["created_at"] >= self._new_ms:
            return
        limit = self._limits[direct]
        if await tx.stores.chats.count_created_by(tx.conn, user_id, direct=direct) < limit:
            return
        wait_s = math.ceil((user["created_at"] + self._new_ms - tx.now) / 1000)
        what = "direct chats with new people" if direct else "groups and channels"
        error = RateLimited(f"a new account starts at most {limit} {what} in its first "
                            f"{self._new_ms // HOUR_MS} hours; try again in {wait_s} s",
                            retry_after=wait_s)
        error.code = "new_account_limit"
        raise error


class Spread:
    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self._limiter = limiter
        self._chats = settings.spam_same_content_chats
        self._window_s = settings.spam_window_s
        self._min_text = settings.spam_min_text

    def _digest(self, req: SendRequest) -> str | None:
        text = " ".join(req.text.split()).casefold()
        parts = [text if len(text) >= self._min_text else "", *req.media_ids,
                 str(req.forward_of or "")]
        if not any(parts):
            return None  # a short text alone: "ok" into many chats is not spam
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]

    async def too_far(self, req: SendRequest) -> bool:
        """Count this send; whether its content has now gone into too many chats."""
        digest = self._digest(req)
        if digest is None:
            return False
        key = f"spread:{req.sender_id}:{digest}"
        first_here = await self._limiter.count(f"{key}:{req.chat_id}", self._window_s) == 1
        chats = await self._limiter.count(key, self._window_s, hit=first_here)
        return chats > self._chats
