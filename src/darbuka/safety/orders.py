"""Removal orders under Regulation (EU) 2021/784, Art. 3.

An order arrives from an `authority` account through the API (or is typed in by an operator
from a letter). Its receipt time starts a one-hour clock. By default the content is disabled
at once, on receipt — well inside the hour — and a moderator then confirms (Annex II goes
back with the time of action) or explains why it could not be done (Annex III: force
majeure, manifest error, missing information), which reinstates the content. A withdrawn or
annulled order reinstates it too.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal, get_args

import orjson

from darbuka.clock import Clock
from darbuka.errors import BadRequest, Conflict, NotFound
from darbuka.kinds import OPERATORS
from darbuka.safety import effects
from darbuka.safety.alerts import AlertService
from darbuka.safety.audit import do_audit
from darbuka.safety.claims import check_claim
from darbuka.safety.moderation import (
    PRIORITY,
    affected_user,
    apply_decision,
    check_decider,
    clock_view,
    item_view,
)
from darbuka.safety.roles import check_authority, check_staff, is_staff
from darbuka.safety.statements import Decision
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import UserRow

__all__ = ["CANNOT_EXECUTE", "ONE_HOUR_MS", "CannotExecute", "OrderService", "message_id_in"]

log = logging.getLogger(__name__)

ONE_HOUR_MS = 3600 * 1000
# Annex III: why an order could not be carried out.
CannotExecute = Literal["force_majeure", "de_facto_impossibility", "manifest_error",
                        "missing_information"]
CANNOT_EXECUTE: tuple[str, ...] = get_args(CannotExecute)
OPEN_STATES = ("received", "disabled")
_MESSAGE_IN_URL = re.compile(r"/messages/(\d{1,19})(?:\D|$)")


def message_id_in(location: str, explicit: int | None) -> int | None:
    """The message an order points at: an explicit id, or `/messages/<id>` in its URL."""
    if explicit is not None:
        return explicit
    found = _MESSAGE_IN_URL.search(location)
    return int(found.group(1)) if found else None


class OrderService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock, *,
                 disable_on_receipt: bool, alert_before_ms: int, writes: WriteLimits,
                 alerts: AlertService) -> None:
        self._writes = writes
        self._alerts = alerts
        self._db = db
        self._stores = stores
        self._writer = writer
        self._clock = clock
        self._disable_on_receipt = disable_on_receipt
        self._alert_before_ms = alert_before_ms

    async def do_receive(self, sender: UserRow, body: dict[str, Any], *,
                         channel: str) -> dict[str, Any]:
        await self._writes.check("reports", sender["id"])
        if channel == "api":
            check_authority(sender)
        else:
            check_staff(sender, OPERATORS)
        message_id = message_id_in(body["location"], body.get("message_id"))

        async def receive(tx: Tx) -> dict[str, Any]:
            message = await tx.stores.messages.get(tx.conn, message_id) if message_id else None
            item_id = await tx.stores.safety.add_item(
                tx.conn, source="order", priority=PRIORITY["order"],
                target_type="message", target_id=message["id"] if message else 0,
                chat_id=message["chat_id"] if message else None, created_at=tx.now,
                due_at=tx.now + ONE_HOUR_MS)
            order_id = await tx.stores.safety.add_order(
                tx.conn, submitted_by=sender["id"], channel=channel,
                issuing_authority=body["issuing_authority"],
                issuing_state=body.get("issuing_state", ""), reference=body["reference"],
                issued_at=body["issued_at"], received_at=tx.now, location=body["location"],
                reasons=body["reasons"], message_id=message["id"] if message else None,
                item_id=item_id, state="received")
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=sender["id"],
                           action="order.received", target=f"order:{order_id}",
                           details={"reference": body["reference"], "channel": channel,
                                    "message": message["id"] if message else None})
            await self._alerts.raise_alert(tx, f"order:{order_id}", _summary(order_id, body))
            if message is not None and self._disable_on_receipt:
                await effects.remove_message(tx, message, reason="order", item_id=item_id)
                await tx.stores.safety.update_order(tx.conn, order_id, state="disabled",
                                                    action_at=tx.now)
                await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=None,
                               action="order.disabled", target=f"message:{message['id']}",
                               details={"order": order_id, "automated": True})
            return await self._view(tx.conn, order_id, tx.now)

        return await self._writer.run(receive)

    async def visible_to(self, user: UserRow) -> list[dict[str, Any]]:
        """Staff see every order; an authority sees the orders it sent."""
        mine = not is_staff(user)
        if mine:
            check_authority(user)
        now = self._clock.now_ms()
        async with self._db.read() as conn:
            rows = await self._stores.safety.orders(
                conn, submitted_by=user["id"] if mine else None)
            return [await self._view(conn, int(r["id"]), now) for r in rows]

    async def get(self, user: UserRow, order_id: int) -> dict[str, Any]:
        async with self._db.read() as conn:
            order = await self._stores.safety.order(conn, order_id)
            if order is None or (not is_staff(user)
                                 and order["submitted_by"] != user["id"]):
                raise NotFound("no such order", code="order_not_found")
            # The moderation context (who posted it, what else is known) is for staff only.
            return await self._view(conn, order_id, self._clock.now_ms(),
                                    full=is_staff(user))

    async def do_confirm(self, staff: UserRow, order_id: int,
                         body: dict[str, Any]) -> dict[str, Any]:
        """The moderator confirms: content disabled (now, if not on receipt) and Annex II."""
        check_staff(staff)

        async def confirm(tx: Tx) -> dict[str, Any]:
            order, item = await self._open_order(tx, order_id)
            check_claim(item, staff, tx.now)
            if order["message_id"] is None:
                raise Conflict("the order names no content here: refuse it with "
                               "missing_information", code="no_content")
            decision = Decision(
                action="remove_message", ground="illegal", reason="terrorism",
                facts=body.get("facts") or order["reasons"],
                legal_ground=f"Regulation (EU) 2021/784, Art. 3 — removal order "
                             f"{order['reference']} of {order['issuing_authority']}",
                source="order", source_identity=order["issuing_authority"])
            await apply_decision(tx, item, decision, actor_id=staff["id"])
            action_at = order["action_at"] or tx.now
            annex_ii = {"form": "Annex II", "reference": order["reference"],
                        "content": order["location"], "action": "removed_or_disabled",
                        "time_of_action": action_at, "received_at": order["received_at"],
                        "within_one_hour": action_at - order["received_at"] <= ONE_HOUR_MS}
            await tx.stores.safety.update_order(tx.conn, order_id, state="executed",
                                                action_at=action_at,
                                                response=orjson.dumps(annex_ii).decode())
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=staff["id"],
                           action="order.executed", target=f"order:{order_id}",
                           details=annex_ii)
            return await self._view(tx.conn, order_id, tx.now, full=True)

        return await self._writer.run(confirm)

    async def do_refuse(self, staff: UserRow, order_id: int,
                        body: dict[str, Any]) -> dict[str, Any]:
        """Annex III: the order could not be carried out; disabled content comes back."""
        check_staff(staff)
        reason = body["reason"]
        if reason not in CANNOT_EXECUTE:
            raise BadRequest(f"reason must be one of {', '.join(CANNOT_EXECUTE)}",
                             code="invalid_reason")

        async def refuse(tx: Tx) -> dict[str, Any]:
            order, item = await self._open_order(tx, order_id)
            check_claim(item, staff, tx.now)
            if order["message_id"] is not None:
                message_id = int(order["message_id"])
                # Not about your own post; and back comes what this order removed, only.
                await check_decider(tx, staff["id"], await affected_user(
                    tx, "message", message_id), on_account=False)
                await effects.reinstate_message(tx, message_id, item_id=int(order["item_id"]))
            annex_iii = {"form": "Annex III", "reference": order["reference"],
                         "reason": reason, "explanation": body.get("explanation", ""),
                         "answered_at": tx.now}
            await tx.stores.safety.update_order(tx.conn, order_id, state="not_executed",
                                                response=orjson.dumps(annex_iii).decode())
            await tx.stores.safety.update_item(tx.conn, item["id"], status="dismissed",
                                               decision="order_not_executed",
                                               decided_by=staff["id"], decided_at=tx.now)
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=staff["id"],
                           action="order.not_executed", target=f"order:{order_id}",
                           details=annex_iii)
            return await self._view(tx.conn, order_id, tx.now, full=True)

        return await self._writer.run(refuse)

    async def do_withdraw(self, user: UserRow, order_id: int) -> dict[str, Any]:
        """The authority withdraws its order (or an operator records its annulment)."""
        await self._writes.check("other", user["id"])

        async def withdraw(tx: Tx) -> dict[str, Any]:
            order = await tx.stores.safety.order(tx.conn, order_id)
            if order is None or (not is_staff(user, OPERATORS)
                                 and order["submitted_by"] != user["id"]):
                raise NotFound("no such order", code="order_not_found")
            if order["state"] in ("withdrawn", "not_executed"):
                raise Conflict(f"this order is {order['state']}", code="order_closed")
            # Only what this order removed and stated: a moderator's decision about the
            # same message, or another order, stands.
            if order["message_id"] is not None:
                await effects.reinstate_message(tx, int(order["message_id"]),
                                                item_id=int(order["item_id"]))
            for statement in await tx.stores.safety.statements_for_target(
                    tx.conn, "message", int(order["message_id"] or 0),
                    item_id=int(order["item_id"])):
                await tx.stores.safety.reverse_statement(tx.conn, statement["id"], tx.now)
            await tx.stores.safety.update_order(tx.conn, order_id, state="withdrawn")
            item = await tx.stores.safety.item(tx.conn, order["item_id"])
            if item is not None and item["status"] == "open":
                await tx.stores.safety.update_item(tx.conn, item["id"], status="dismissed",
                                                   decision="order_withdrawn",
                                                   decided_at=tx.now)
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=user["id"],
                           action="order.withdrawn", target=f"order:{order_id}",
                           details={"reference": order["reference"]})
            return await self._view(tx.conn, order_id, tx.now, full=True)

        return await self._writer.run(withdraw)

    async def do_check_clocks(self) -> list[int]:
        """Alert staff once per order whose hour is running low; return those orders."""

        async def check(tx: Tx) -> list[int]:
            staff = await tx.stores.users.staff_ids(tx.conn)
            alerted = []
            for order in await tx.stores.safety.orders(tx.conn, states=OPEN_STATES):
                # Still undecided: each escalation level it has reached alerts its tier once.
                level = self._alerts.escalation_level(tx.now - order["received_at"])
                for escalated in range(2, level + 1):
                    await self._alerts.raise_alert(tx, f"order:{order['id']}",
                                                   _summary(order["id"], order),
                                                   level=escalated)
                left = order["received_at"] + ONE_HOUR_MS - tx.now
                if order["alerted_at"] is not None or left > self._alert_before_ms:
                    continue
                await tx.stores.safety.update_order(tx.conn, order["id"], alerted_at=tx.now)
                log.warning("removal order %s (%s): %d s left on its one-hour clock",
                            order["id"], order["reference"], max(0, left // 1000))
                alert = {"order_id": order["id"], "reference": order["reference"],
                         "seconds_left": max(0, left // 1000)}
                for staff_id in staff:
                    await tx.emit("moderation.alert", {"alert": alert}, user_id=staff_id)
                alerted.append(int(order["id"]))
            return alerted

        return await self._writer.run(check)

    async def _open_order(self, tx: Tx, order_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        order = await tx.stores.safety.order(tx.conn, order_id)
        if order is None:
            raise NotFound("no such order", code="order_not_found")
        if order["state"] not in OPEN_STATES:
            raise Conflict(f"this order is {order['state']}", code="order_closed")
        item = await tx.stores.safety.item(tx.conn, order["item_id"])
        assert item is not None  # noqa: S101 - made with the order, never deleted
        return order, item

    async def _view(self, conn: Conn, order_id: int, now: int, *,
                    full: bool = False) -> dict[str, Any]:
        order = await self._stores.safety.order(conn, order_id)
        assert order is not None  # noqa: S101 - the caller found or made it
        view = {k: order[k] for k in (
            "id", "channel", "issuing_authority", "issuing_state", "reference", "issued_at",
            "received_at", "location", "reasons", "message_id", "state", "action_at",
            "item_id")}
        view["response"] = orjson.loads(order["response"]) if order["response"] else None
        running = order["state"] in OPEN_STATES
        view["clock"] = clock_view(order["received_at"] + ONE_HOUR_MS, now) if running else None
        if full:
            item = await self._stores.safety.item(conn, order["item_id"])
            view["item"] = await item_view(conn, self._stores, item, now) if item else None
        return view


def _summary(order_id: int, order: dict[str, Any]) -> str:
    return (f"removal order {order_id} ({order['reference']}) from "
            f"{order['issuing_authority']}: {order['location']}")[:1000]
