"""Drafts: what a member is writing in a chat, kept by the server so each of their devices
opens the chat with it.

The last write wins, in the order the writer commits (the server's time, `updated_at`),
and every write reaches the member's devices as a `draft.updated` event. A send from the
member into the chat clears it in the send's own transaction (`clear_sent_drafts`), so no
device is left showing a draft of a message already sent.
"""

from __future__ import annotations

from typing import Any

from darbuka.errors import BadRequest
from darbuka.services.access import access_chat
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.text import MAX_TEXT, check_no_nul
from darbuka.services.writer import Tx, Writer
from darbuka.storage.rows import Membership

__all__ = ["DraftService", "clear_sent_drafts", "draft_view"]


def draft_view(text: str | None, at: int | None) -> dict[str, Any] | None:
    return None if text is None or at is None else {"text": text, "updated_at": at}


def _check_text(text: Any) -> str | None:
    if not isinstance(text, str):
        raise BadRequest("text must be a string (empty to clear the draft)",
                         code="invalid_text")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"a draft may have at most {MAX_TEXT} characters, as a message",
                         code="draft_too_long")
    check_no_nul(text, "text")
    return text if text.strip() else None


async def clear_sent_drafts(tx: Tx, sent: set[tuple[int, int]],
                            roles: dict[tuple[int, int], Membership]) -> None:
    """Clear the drafts of the (chat_id, sender_id) pairs that just sent, in the send's
    transaction. `roles` is the send path's membership read, which says who keeps one: a
    batch where nobody does costs no query."""
    kept = sorted(p for p in sent if (m := roles.get(p)) is not None and m.has_draft)
    if not kept:
        return
    await tx.stores.preferences.clear_drafts(tx.conn, kept)
    for chat_id, user_id in kept:
        await tx.emit("draft.updated", {"chat_id": chat_id, "draft": None}, user_id=user_id)


class DraftService:
    def __init__(self, writer: Writer, *, writes: WriteLimits) -> None:
        self._writer = writer
        self._writes = writes

    async def do_save(self, user_id: int, chat_id: int, text: Any) -> dict[str, Any]:
        """Keep `text` as the draft (blank clears it); returns the draft as stored."""
        await self._writes.check("other", user_id)
        kept = _check_text(text)

        async def save(tx: Tx) -> dict[str, Any]:
            await access_chat(tx.conn, tx.stores, user_id, chat_id)
            at = None if kept is None else tx.now
            await tx.stores.preferences.set_draft(tx.conn, chat_id, user_id, kept, at)
            body = {"chat_id": chat_id, "draft": draft_view(kept, at)}
            await tx.emit("draft.updated", body, user_id=user_id)
            return body

        return await self._writer.run(save)
