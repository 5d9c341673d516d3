"""Links in URL banks, at send time: the message is refused, or held for a moderator.

`LinkScreen` is what the send path is handed (`services/sending.LinkCheck`): it runs in the
writer's transaction for each send, on the links `services/links.py` finds in the text (a
forward's too), the caption and a bot's buttons. A `refuse` match answers 422
`link_refused`; a `review` match stores the send in `link_held_sends`, puts a `hash_match` item
(target `send`) in the queue and answers 409 `message_held`. Nothing reaches the chat until
a moderator dismisses the item — the message is then sent as it was written, from its
sender — or removes it, which refuses it for good with a statement of reasons. Edits have
no held state: an edit whose links a bank would hold is refused.
"""

from __future__ import annotations

from typing import Any

import orjson

from darbuka.errors import ApiError, BadRequest
from darbuka.safety.banks import BankService, record_matches
from darbuka.safety.links import host_of, normalise_url
from darbuka.safety.matcher import Verdict
from darbuka.services.sending import SendRequest, store_sends
from darbuka.services.writer import Tx

__all__ = ["LinkRefused", "LinkScreen", "MessageHeld", "held_of", "refuse_send",
           "release_send"]

HASH_MATCH_PRIORITY = 2  # moderation.PRIORITY["hash_match"]


class LinkRefused(ApiError):
    status = 422
    code = "link_refused"

    def __init__(self, link: str, *, editing: bool = False) -> None:
        where = host_of(link) or "a site"
        more = " (a moderator would have to review it: send it as a new message)" if (
            editing) else ""
        super().__init__(f"this message links to {where}, which may not be shared here{more}")


class MessageHeld(ApiError):
    status = 409
    code = "message_held"

    def __init__(self) -> None:
        super().__init__("a link in this message is reviewed by a moderator before the "
                         "message is delivered; it is sent if they let it through")


def _normalised(links: list[str]) -> list[str]:
    out = []
    for link in links:
        try:
            out.append(normalise_url(link))
        except ValueError:  # not http(s), or not a URL at all: nothing to look up
            continue
    return out


class LinkScreen:
    def __init__(self, banks: BankService) -> None:
        self._banks = banks

    async def check_send(self, tx: Tx, req: SendRequest, links: list[str]) -> ApiError | None:
        verdict = await self._verdict(tx, f"send:{req.sender_id}:{req.client_id}", links)
        if verdict.action == "refuse":
            return LinkRefused(_first(verdict, "refuse"))
        if verdict.action == "review":
            await _hold(tx, req)
            return MessageHeld()
        return None

    async def check_edit(self, tx: Tx, message_id: int, links: list[str]) -> ApiError | None:
        verdict = await self._verdict(tx, f"edit:{message_id}", links)
        if verdict.action is not None:
            return LinkRefused(_first(verdict, verdict.action), editing=True)
        return None

    async def _verdict(self, tx: Tx, subject: str, links: list[str]) -> Verdict:
        verdict = self._banks.matcher.check_links(_normalised(links))
        if verdict.matches:
            await record_matches(tx, subject, verdict)
        return verdict


def _first(verdict: Verdict, outcome: str) -> str:
    return next(m.query_hash for m in verdict.matches if m.outcome == outcome)


async def _hold(tx: Tx, req: SendRequest) -> None:
    """Keep the send for a moderator; a repeat of it (same client_id) is held once."""
    if await tx.stores.safety.held_send_of(tx.conn, req.sender_id, req.client_id):
        return
    item_id = await tx.stores.safety.add_item(
        tx.conn, source="hash_match", priority=HASH_MATCH_PRIORITY, target_type="send",
        target_id=0, chat_id=req.chat_id, created_at=tx.now, report_count=0)
    body = {"text": req.text, "reply_to": req.reply_to, "forward_of": req.forward_of,
            "media_id": req.media_id, "kind": req.kind, "album": list(req.album),
            "keyboard": req.keyboard}
    held_id = await tx.stores.safety.add_held_send(
        tx.conn, sender_id=req.sender_id, client_id=req.client_id, chat_id=req.chat_id,
        item_id=item_id, body=orjson.dumps(body).decode(), state="held", created_at=tx.now)
    await tx.stores.safety.update_item(tx.conn, item_id, target_id=held_id)


async def held_of(tx: Tx, item: dict[str, Any]) -> dict[str, Any] | None:
    if item["target_type"] != "send":
        return None
    return await tx.stores.safety.held_send(tx.conn, int(item["target_id"]))


async def release_send(tx: Tx, item: dict[str, Any]) -> None:
    """A moderator let a held send through: it is sent now, as written, unless its sender
    may no longer post there (then it is refused like any send)."""
    held = await held_of(tx, item)
    if held is None or held["state"] != "held":
        return
    body = orjson.loads(held["body"])
    req = SendRequest(held["sender_id"], held["chat_id"], held["client_id"], body["text"],
                      body["reply_to"], body["forward_of"], None, body["media_id"],
                      body["kind"], body["keyboard"], album=tuple(body["album"]))
    (result,) = await store_sends(tx, [req])
    state = "refused" if isinstance(result, ApiError) else "sent"
    await tx.stores.safety.update_held_send(tx.conn, held["id"], state=state)


async def refuse_send(tx: Tx, item: dict[str, Any]) -> tuple[int, int]:
    """A moderator removed a held send: it is never delivered. (date, sender)"""
    held = await held_of(tx, item)
    if held is None:
        raise BadRequest("this item holds no send", code="wrong_target")
    await tx.stores.safety.update_held_send(tx.conn, held["id"], state="refused")
    return int(held["created_at"]), int(held["sender_id"])
