"""Appeals (Regulation 2021/784 Art. 10; DSA Art. 20): the affected user complains, and a
moderator other than the one who decided reviews it. A reversal puts everything back —
the message in every client through the normal event stream, the account, the chat."""

from __future__ import annotations

from typing import Any

from darbuka.clock import Clock
from darbuka.errors import BadRequest, Conflict, Forbidden, NotFound
from darbuka.safety import effects
from darbuka.safety.audit import do_audit
from darbuka.safety.mediaremoval import restore_media
from darbuka.safety.moderation import statement_view
from darbuka.safety.roles import check_staff
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import UserRow

__all__ = ["AppealService"]

APPEAL_WINDOW_MS = 183 * 24 * 3600 * 1000  # six months, as the DSA gives


class AppealService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 *, writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        self._clock = clock

    async def do_appeal(self, user_id: int, statement_id: int, text: str) -> dict[str, Any]:
        await self._writes.check("reports", user_id)
        async def appeal(tx: Tx) -> dict[str, Any]:
            statement = await tx.stores.safety.statement(tx.conn, statement_id)
            if statement is None or statement["user_id"] != user_id:
                raise NotFound("no such statement", code="statement_not_found")
            if statement["reversed_at"] is not None:
                raise Conflict("this decision was reversed already", code="already_reversed")
            if tx.now - statement["created_at"] > APPEAL_WINDOW_MS:
                raise Conflict("the six months to appeal have passed", code="too_late")
            if await tx.stores.safety.appeals(tx.conn, statement_id=statement_id,
                                              status="open"):
                raise Conflict("an appeal of this decision is open", code="appeal_open")
            appeal_id = await tx.stores.safety.add_appeal(
                tx.conn, statement_id=statement_id, user_id=user_id, text=text,
                created_at=tx.now)
            return _view(await tx.stores.safety.appeal(tx.conn, appeal_id))

        return await self._writer.run(appeal)

    async def mine(self, user_id: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            return [_view(a) for a in await self._stores.safety.appeals(conn, user_id=user_id)]

    async def open_appeals(self, staff: UserRow) -> list[dict[str, Any]]:
        check_staff(staff)
        async with self._db.read() as conn:
            rows = await self._stores.safety.appeals(conn, status="open")
            result = []
            for row in rows:
                statement = await self._stores.safety.statement(conn, row["statement_id"])
                result.append({**_view(row),
                               "statement": statement_view(statement) if statement else None})
            return result

    async def do_decide(self, staff: UserRow, appeal_id: int, outcome: str,
                        reply: str) -> dict[str, Any]:
        check_staff(staff)
        if outcome not in ("upheld", "reversed"):
            raise BadRequest("outcome must be upheld or reversed", code="invalid_outcome")

        async def decide(tx: Tx) -> dict[str, Any]:
            appeal = await tx.stores.safety.appeal(tx.conn, appeal_id)
            if appeal is None:
                raise NotFound("no such appeal", code="appeal_not_found")
            if appeal["status"] != "open":
                raise Conflict("this appeal was decided already", code="already_decided")
            statement = await tx.stores.safety.statement(tx.conn, appeal["statement_id"])
            assert statement is not None  # noqa: S101 - appeals are made of statements
            if statement["decided_by"] == staff["id"]:
                raise Forbidden("another moderator must review your own decision",
                                code="same_moderator")
            if appeal["user_id"] == staff["id"]:
                raise Forbidden("another moderator decides about your own content or "
                                "account", code="own_case")
            if outcome == "reversed":
                await _undo(tx, statement)
            await tx.stores.safety.update_appeal(tx.conn, appeal_id, status=outcome,
                                                 decided_by=staff["id"], decided_at=tx.now,
                                                 reply=reply)
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=staff["id"],
                           action=f"appeal.{outcome}", target=f"appeal:{appeal_id}",
                           details={"statement": statement["id"]})
            view = _view(await tx.stores.safety.appeal(tx.conn, appeal_id))
            await tx.emit("appeal.decided", {"appeal": view}, user_id=appeal["user_id"])
            return view

        return await self._writer.run(decide)


async def _undo(tx: Tx, statement: dict[str, Any]) -> None:
    """Reverse a decision: the content, account or chat is as it was before it."""
    target_type, target_id = statement["target_type"], int(statement["target_id"])
    decision = statement["decision"]
    if decision in ("remove_message", "disable_message"):
        # Only this decision's removal: an order or another decision about it stands.
        await effects.reinstate_message(tx, target_id, item_id=int(statement["item_id"] or 0))
    elif decision == "remove_media":
        await restore_media(tx, int(statement["item_id"] or 0))
    elif decision in ("suspend_user", "ban_user"):
        await effects.restore_account(tx, int(statement["user_id"]))
    elif decision == "close_chat":
        chat_id = target_id if target_type == "chat" else None
        if chat_id is None:
            item = await tx.stores.safety.item(tx.conn, statement["item_id"] or 0)
            chat_id = int(item["chat_id"]) if item and item["chat_id"] else None
        if chat_id is not None:
            await effects.reopen_chat(tx, chat_id)
    await tx.stores.safety.reverse_statement(tx.conn, statement["id"], tx.now)


def _view(row: dict[str, Any] | None) -> dict[str, Any]:
    assert row is not None  # noqa: S101 - callers pass a row they just read or wrote
    return {k: row[k] for k in ("id", "statement_id", "status", "text", "reply", "created_at",
                                "decided_at")}
