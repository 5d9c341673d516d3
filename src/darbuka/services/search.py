"""Search: messages the caller may see, and their chats and people by name.

Messages come from the index (`storage/search.py`), filtered by the caller's membership
spans there — the same rule catch-up reads by, so a former member finds what they saw
while in, nothing after, and an outsider nothing. Each hit carries where it matched, as
ranges over the original text for the client to mark (never markup). The index is kept in
the transaction that writes the message: a delete or removal is not found after COMMIT.
"""

from __future__ import annotations

from typing import Any

from darbuka.errors import BadRequest
from darbuka.services.access import access_chat, message_for
from darbuka.services.views import chat_view, message_view, public_user_view
from darbuka.storage import Database, Stores
from darbuka.storage.rows import MessageRow
from darbuka.storage.searchtext import fold, highlight, query_words

__all__ = ["MAX_QUERY", "SearchService"]

MAX_QUERY = 200
# Chats and people are matched in the caller's own list (it is theirs, and short).
NAMES_LIMIT = 20


class SearchService:
    def __init__(self, db: Database, stores: Stores) -> None:
        self._db = db
        self._stores = stores

    async def search(self, user_id: int, q: Any, *, chat_id: int | None = None,
                     before: int | None = None, limit: int = 20) -> dict[str, Any]:
        """Messages newest first (a page below message id `before`; `next_before` pages
        on), and on the first page of a search across chats the caller's chats and the
        people of their direct chats whose names match."""
        words = _check_query(q)
        async with self._db.read() as conn:
            if chat_id is not None:
                await access_chat(conn, self._stores, user_id, chat_id)
            ids = await self._stores.search.find(conn, user_id, words, chat_id=chat_id,
                                                 before=before, limit=limit)
            rows = await self._stores.messages.by_ids(conn, ids)
            result: dict[str, Any] = {"messages": _hits(ids, rows, words, user_id)}
            if len(ids) == limit:
                result["next_before"] = ids[-1]
            if chat_id is None and before is None:
                result["chats"], result["people"] = await self._names(conn, user_id, words)
        return result

    async def _names(self, conn: Any, user_id: int,
                     words: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        chats = await self._stores.chats.user_chats(conn, user_id)
        found = [chat_view(c) for c in chats
                 if c["kind"] != "direct" and highlight(c["title"], words)][:NAMES_LIMIT]
        direct = [c["direct_key"] for c in chats if c["kind"] == "direct" and c["direct_key"]]
        others = {int(u) for key in direct for u in key.split(":") if int(u) != user_id}
        users = await self._stores.users.by_ids(conn, others)
        people = sorted((u for u in users.values() if _names_match(u, words)),
                        key=lambda u: fold(u["display_name"]).text)
        return found, [public_user_view(u) for u in people[:NAMES_LIMIT]]


def _check_query(q: Any) -> list[str]:
    if not isinstance(q, str) or not 1 <= len(q) <= MAX_QUERY:
        raise BadRequest(f"q must be 1 to {MAX_QUERY} characters", code="invalid_query")
    words = query_words(q)
    if not words:
        raise BadRequest("q must hold a letter or a digit", code="invalid_query")
    return words


def _names_match(user: Any, words: list[str]) -> bool:
    return bool(highlight(f"{user['display_name']} {user['username'] or ''}", words))


def _hits(ids: list[int], rows: dict[int, MessageRow], words: list[str],
          viewer: int) -> list[dict[str, Any]]:
    """The found messages in order, each with its ranges. A message deleted or removed
    since (or not holding the words after all) is left out: the index only proposes."""
    hits: list[dict[str, Any]] = []
    for message_id in ids:
        row = rows.get(message_id)
        if row is None or row["deleted"] or row["removed"]:
            continue
        ranges = highlight(row["text"], words)
        if ranges:
            hits.append({"message": message_for(message_view(row), viewer),
                         "ranges": [list(r) for r in ranges]})
    return hits
