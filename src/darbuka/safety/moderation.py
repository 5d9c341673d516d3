"""Reports, the moderation queue and moderators' decisions.

One queue, ordered by priority — authority orders, then trusted referrals, then hash
matches, then user reports — and by age within a priority. Every decision applies its
effect, sends the affected user a statement of reasons, tells the reporters the outcome and
writes an audit record, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Literal, get_args

import orjson

from darbuka.clock import Clock
from darbuka.errors import BadRequest, Conflict, NotFound
from darbuka.safety import effects
from darbuka.safety.alerts import AlertService
from darbuka.safety.audit import do_audit
from darbuka.safety.claims import CLAIM_MS, check_claim, claim_view, do_claim, do_release
from darbuka.safety.context import more_context
from darbuka.safety.held import SPAM_PRIORITY, held_view, release_held
from darbuka.safety.heldsends import held_of, refuse_send, release_send
from darbuka.safety.mediaremoval import media_of_item, release_media, remove_media
from darbuka.safety.roles import check_may_decide, check_staff
from darbuka.safety.statements import REASONS, Decision, statement_body
from darbuka.services.access import access_chat, access_visible_chat, check_admin, message_for
from darbuka.services.adminlog import do_log
from darbuka.services.media import media_descriptor
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.views import chat_view, message_view, public_user_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import UserRow
from darbuka.storage.safety import QueueFilter

__all__ = ["ACTIONS", "PRIORITY", "Action", "ModerationService", "Source", "TargetKind",
           "TargetType", "affected_user", "apply_decision", "check_decider", "item_view"]

PRIORITY = {"order": 0, "referral": 1, "hash_match": 2, "report": 3, "spam": SPAM_PRIORITY}
# What a report may name, and what a moderator may do with a queue item; request bodies
# declare the Literal types.
TargetType = Literal["message", "user", "chat"]
TARGETS: tuple[str, ...] = get_args(TargetType)
Action = Literal["remove_message", "remove_media", "suspend_user", "ban_user", "close_chat",
                 "dismiss"]
ACTIONS: tuple[str, ...] = get_args(Action)
# What the queue holds (a queue filter's values).
Source = Literal["order", "referral", "hash_match", "report", "spam"]
TargetKind = Literal["message", "user", "chat", "media", "send"]
# The statement's content type for a removed media item, by media kind.
_MEDIA_CONTENT = {"video": "CONTENT_TYPE_VIDEO", "video_note": "CONTENT_TYPE_VIDEO",
                  "voice": "CONTENT_TYPE_AUDIO", "audio": "CONTENT_TYPE_AUDIO",
                  "file": "CONTENT_TYPE_OTHER"}
# An order's clock counts as running low this long before it runs out.
LOW_CLOCK_MS = 15 * 60 * 1000


class ModerationService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock, *,
                 on_media_removed: Callable[[str], Awaitable[Any]] | None = None,
                 writes: WriteLimits, alerts: AlertService | None = None) -> None:
        self._writes = writes
        # A referral (a trusted flagger's report) pages the on-call list, as an order does.
        self._alerts = alerts
        # Banks a removed media item's hashes, after the decision commits.
        self._on_media_removed = on_media_removed
        self._db = db
        self._stores = stores
        self._writer = writer
        self._clock = clock

    # -- reports ----------------------------------------------------------------------------

    async def do_report(self, reporter: UserRow, body: dict[str, Any]) -> dict[str, Any]:
        await self._writes.check("reports", reporter["id"])
        target_type, target_id = body["target_type"], body["target_id"]
        reason, note = body["reason"], body.get("note", "")
        if reason not in REASONS:
            raise BadRequest(f"reason must be one of {', '.join(REASONS)}", code="invalid_reason")

        async def report(tx: Tx) -> dict[str, Any]:
            chat_id = await _check_can_see(tx, reporter["id"], target_type, target_id)
            return await _file_report(tx, reporter, target_type, target_id, chat_id, reason,
                                      note, alerts=self._alerts)

        return await self._writer.run(report)

    async def do_escalate(self, admin: UserRow, chat_id: int,
                          body: dict[str, Any]) -> dict[str, Any]:
        """A chat admin's one action to take something in their chat to the platform: a
        message of the chat, or a person (a member, or someone they banned), becomes a
        report in the moderation queue, and the admin log says so."""
        await self._writes.check("reports", admin["id"])
        reason, note = body["reason"], body.get("note", "")
        if reason not in REASONS:
            raise BadRequest(f"reason must be one of {', '.join(REASONS)}", code="invalid_reason")
        if (body.get("message_id") is None) == (body.get("user_id") is None):
            raise BadRequest("name message_id or user_id", code="invalid_target")

        async def escalate(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, admin["id"], chat_id)
            check_admin(access)
            target_type, target_id = await _chat_target(tx, chat_id, body)
            report = await _file_report(tx, admin, target_type, target_id, chat_id, reason,
                                        note, alerts=self._alerts)
            await do_log(tx, chat_id, admin["id"], "report.escalated", target_id=target_id,
                         target_type=target_type, report_id=report["id"], reason=reason)
            return report

        return await self._writer.run(escalate)

    async def my_reports(self, user_id: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = await self._stores.safety.reports_by(conn, user_id)
        return [{k: r[k] for k in ("id", "target_type", "target_id", "reason", "created_at",
                                   "outcome")} for r in rows]

    # -- the queue --------------------------------------------------------------------------

    async def queue(self, staff: UserRow, *, status: str, limit: int,
                    filters: dict[str, Any] | None = None) -> list[Any]:
        """The queue; `filters`: source, target_type, reason (of a report), older_than_s,
        assignee ("mine", "unclaimed" or a moderator's id)."""
        check_staff(staff)
        now = self._clock.now_ms()
        where = _queue_filter(filters or {}, staff["id"], now)
        async with self._db.read() as conn:
            items = await self._stores.safety.queue(conn, status=status, limit=limit,
                                                    where=where)
            return [await item_view(conn, self._stores, item, now) for item in items]

    async def do_claim(self, staff: UserRow, item_id: int) -> dict[str, Any]:
        check_staff(staff)
        return await self._writer.run(lambda tx: do_claim(tx, staff, item_id))

    async def do_release(self, staff: UserRow, item_id: int) -> dict[str, Any]:
        check_staff(staff)
        return await self._writer.run(lambda tx: do_release(tx, staff, item_id))

    async def item(self, staff: UserRow, item_id: int) -> dict[str, Any]:
        check_staff(staff)
        async with self._db.read() as conn:
            item = await self._stores.safety.item(conn, item_id)
            if item is None:
                raise NotFound("no such item", code="item_not_found")
            return await item_view(conn, self._stores, item, self._clock.now_ms(), full=True)

    async def do_decide(self, staff: UserRow, item_id: int,
                        body: dict[str, Any]) -> dict[str, Any]:
        check_staff(staff)
        action = body["action"]

        async def decide(tx: Tx) -> dict[str, Any]:
            item = await tx.stores.safety.item(tx.conn, item_id)
            if item is None:
                raise NotFound("no such item", code="item_not_found")
            if item["status"] != "open":
                raise Conflict("this item was decided already", code="already_decided")
            check_claim(item, staff, tx.now)
            if item["source"] == "order":
                raise Conflict("orders are confirmed or refused under /moderation/orders",
                               code="use_order_routes")
            if action == "dismiss":
                await check_decider(tx, staff["id"], await _affected_by_item(tx, item),
                                   on_account=False)
                return await dismiss_item(tx, item, staff["id"])
            decision = Decision(
                action=action, ground=body.get("ground", "terms"),
                reason=body.get("reason", "other"), facts=body.get("facts", ""),
                legal_ground=body.get("legal_ground", ""), clause=body.get("clause", ""),
                source=item["source"], end_date=body.get("end_date"),
                automated_detection=item["source"] == "hash_match")
            return await apply_decision(tx, item, decision, actor_id=staff["id"])

        result: dict[str, Any] = await self._writer.run(decide)
        if result.get("media_id") and self._on_media_removed is not None:
            await self._on_media_removed(result["media_id"])
        return result

    async def statements_of(self, user_id: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = await self._stores.safety.statements_of(conn, user_id)
        return [statement_view(r) for r in rows]


async def _file_report(tx: Tx, reporter: UserRow, target_type: str, target_id: int,
                       chat_id: int | None, reason: str, note: str, *,
                       alerts: AlertService | None = None) -> dict[str, Any]:
    """A report on the target's open queue item (opened if need be): a trusted flagger's
    raises the item's priority to a referral's, and pages the on-call list (once per
    item)."""
    source = "referral" if reporter.get("trusted_flagger") else "report"
    item = await tx.stores.safety.open_item_for(tx.conn, target_type, target_id)
    if item is None:
        item_id = await tx.stores.safety.add_item(
            tx.conn, source=source, priority=PRIORITY[source], target_type=target_type,
            target_id=target_id, chat_id=chat_id, created_at=tx.now, report_count=1)
    else:
        item_id = int(item["id"])
        values: dict[str, Any] = {"report_count": item["report_count"] + 1}
        if PRIORITY[source] < item["priority"]:
            values |= {"source": source, "priority": PRIORITY[source]}
        await tx.stores.safety.update_item(tx.conn, item_id, **values)
    report_id = await tx.stores.safety.add_report(
        tx.conn, reporter_id=reporter["id"], target_type=target_type, target_id=target_id,
        reason=reason, note=note, item_id=item_id, created_at=tx.now)
    if source == "referral" and alerts is not None:
        await alerts.raise_alert(tx, f"item:{item_id}",
                                 f"a trusted flagger's report ({reason}) of {target_type} "
                                 f"{target_id}: queue item {item_id}")
    return {"id": report_id, "target_type": target_type, "target_id": target_id,
            "reason": reason, "created_at": tx.now, "outcome": None}


async def _chat_target(tx: Tx, chat_id: int, body: dict[str, Any]) -> tuple[str, int]:
    """What an admin escalates: a message of this chat, or a member or banned person."""
    if (message_id := body.get("message_id")) is not None:
        message = await tx.stores.messages.get(tx.conn, message_id)
        if message is None or message["chat_id"] != chat_id or message["sender_id"] is None:
            raise NotFound("no such message in this chat", code="message_not_found")
        return "message", int(message_id)
    user_id = int(body["user_id"])
    if await tx.stores.chats.member(tx.conn, chat_id, user_id) is None \
            and not await tx.stores.bans.is_banned(tx.conn, chat_id, user_id):
        raise NotFound("not a member of this chat, nor banned from it", code="member_not_found")
    return "user", user_id


async def _check_can_see(tx: Tx, user_id: int, target_type: str, target_id: int) -> int | None:
    """Reports only of what the reporter can see; returns the chat involved, if any."""
    if target_type == "message":
        message = await tx.stores.messages.get(tx.conn, target_id)
        if message is None:
            raise NotFound("no such message", code="message_not_found")
        await access_visible_chat(tx.conn, tx.stores, user_id, message["chat_id"])
        return int(message["chat_id"])
    if target_type == "chat":
        await access_visible_chat(tx.conn, tx.stores, user_id, target_id)
        return target_id
    if await tx.stores.users.get(tx.conn, target_id) is None:
        raise NotFound("no such user", code="user_not_found")
    return None


async def affected_user(tx: Tx, target_type: str, target_id: int) -> int | None:
    if target_type == "user":
        return target_id
    if target_type == "message":
        message = await tx.stores.messages.get(tx.conn, target_id)
        return int(message["sender_id"]) if message and message["sender_id"] else None
    chat = await tx.stores.chats.get(tx.conn, target_id)
    return int(chat["owner_id"]) if chat and chat["owner_id"] else None


async def _affected_by_item(tx: Tx, item: dict[str, Any]) -> int | None:
    if (held := await held_of(tx, item)) is not None:
        return int(held["sender_id"])
    if item["target_type"] == "media":
        return (await media_of_item(tx, item))["owner_id"]
    return await affected_user(tx, item["target_type"], int(item["target_id"]))


async def check_decider(tx: Tx, actor_id: int | None, user_id: int | None, *,
                       on_account: bool) -> None:
    """See `roles.check_may_decide`: not one's own case; accounts only below one's role."""
    if actor_id is None or user_id is None:
        return
    actor = await tx.stores.users.get(tx.conn, actor_id)
    affected = await tx.stores.users.get(tx.conn, user_id)
    if actor is not None and affected is not None:
        check_may_decide(actor, affected, on_account=on_account)


async def apply_decision(tx: Tx, item: dict[str, Any], decision: Decision, *,
                         actor_id: int | None) -> dict[str, Any]:
    """Carry out a decision on an item's target, with its statement, outcome and audit."""
    target_type, target_id = item["target_type"], int(item["target_id"])
    media_id = None
    content_date: int | None
    user_id: int | None
    if decision.action == "remove_media":
        row = await remove_media(tx, item)
        media_id, user_id, content_date = row["id"], row["owner_id"], int(row["created_at"])
        decision = replace(decision, content_type=(
            _MEDIA_CONTENT.get(row["kind"], "CONTENT_TYPE_IMAGE"),))
    else:
        content_date, user_id = await _apply_effect(tx, decision, target_type, target_id, item)
    # Checked once the affected user is known; refusing rolls the effect back with the rest.
    await check_decider(tx, actor_id, user_id,
                       on_account=decision.action in ("suspend_user", "ban_user"))
    statement_id = None
    if user_id is not None:
        statement_id = await send_statement(tx, user_id, item, decision, content_date,
                                            actor_id=actor_id)
        if decision.action in ("suspend_user", "ban_user"):
            status = "banned" if decision.action == "ban_user" else "suspended"
            await effects.restrict_account(tx, user_id, status=status,
                                           until=decision.end_date, statement_id=statement_id)
    await _close_item(tx, item, decision.action, actor_id, outcome="action_taken")
    await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=actor_id,
                   action=f"decision.{decision.action}",
                   target=f"media:{media_id}" if media_id else f"{target_type}:{target_id}",
                   details={"item": item["id"], "ground": decision.ground,
                            "reason": decision.reason, "statement": statement_id,
                            "automated": actor_id is None})
    result = {"item_id": item["id"], "decision": decision.action, "statement_id": statement_id}
    if media_id is not None:
        result["media_id"] = media_id
    return result


async def _apply_effect(tx: Tx, decision: Decision, target_type: str, target_id: int,
                        item: dict[str, Any]) -> tuple[int | None, int | None]:
    """Do what the decision says; return (content date, affected user)."""
    action = decision.action
    if action in ("remove_message", "disable_message") and target_type == "send":
        return await refuse_send(tx, item)
    if action in ("remove_message", "disable_message"):
        if target_type != "message":
            raise BadRequest("remove_message needs a message item", code="wrong_target")
        message = await effects.load_message(tx, target_id)
        await effects.remove_message(tx, message, reason=item["source"], item_id=item["id"])
        return int(message["created_at"]), message["sender_id"]
    if action == "close_chat":
        chat_id = target_id if target_type == "chat" else item["chat_id"]
        if chat_id is None:
            raise BadRequest("close_chat needs a chat or a message in one", code="wrong_target")
        view = await effects.close_chat(tx, int(chat_id))
        return int(view["created_at"]), view["owner_id"]
    if action in ("suspend_user", "ban_user"):
        user_id = (int((await media_of_item(tx, item))["owner_id"] or 0) or None
                   if target_type == "media" else await _affected_by_item(tx, item)
                   if target_type == "send" else
                   await affected_user(tx, target_type, target_id))
        if user_id is None:
            raise BadRequest("this item names no user to restrict", code="wrong_target")
        return None, user_id
    raise BadRequest(f"action must be one of {', '.join(ACTIONS)}", code="invalid_action")


async def send_statement(tx: Tx, user_id: int, item: dict[str, Any], decision: Decision,
                         content_date: int | None, *, actor_id: int | None) -> int:
    target_type, target_id = item["target_type"], int(item["target_id"])
    puid = f"darbuka-{target_type}-{target_id}-{item['id']}"
    body = statement_body(decision, target_type=target_type, target_id=target_id,
                          content_date=content_date, now=tx.now, puid=puid)
    statement_id = await tx.stores.safety.add_statement(
        tx.conn, user_id=user_id, item_id=item["id"], decision=decision.action,
        target_type=target_type, target_id=target_id, body=orjson.dumps(body).decode(),
        created_at=tx.now, decided_by=actor_id)
    view = {"id": statement_id, "decision": decision.action, "created_at": tx.now, **body}
    await tx.emit("moderation.statement", {"statement": view}, user_id=user_id)
    return statement_id


async def dismiss_item(tx: Tx, item: dict[str, Any], actor_id: int) -> dict[str, Any]:
    await release_media(tx, item)
    await release_held(tx, item)
    await release_send(tx, item)
    await _close_item(tx, item, "dismiss", actor_id, outcome="no_action")
    await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=actor_id, action="decision.dismiss",
                   target=f"{item['target_type']}:{item['target_id']}",
                   details={"item": item["id"]})
    return {"item_id": item["id"], "decision": "dismiss", "statement_id": None}


async def _close_item(tx: Tx, item: dict[str, Any], decision: str, actor_id: int | None, *,
                      outcome: str) -> None:
    status = "dismissed" if decision == "dismiss" else "actioned"
    await tx.stores.safety.update_item(tx.conn, item["id"], status=status, decision=decision,
                                       decided_by=actor_id, decided_at=tx.now)
    for report in await tx.stores.safety.set_report_outcome(tx.conn, item["id"], outcome):
        await tx.emit("report.resolved", {"report": {
            "id": report["id"], "target_type": report["target_type"],
            "target_id": report["target_id"], "reason": report["reason"],
            "outcome": outcome}}, user_id=report["reporter_id"])


def _queue_filter(filters: dict[str, Any], me: int, now: int) -> QueueFilter:
    where = QueueFilter(lapsed_at=now - CLAIM_MS)
    for key in ("source", "target_type", "reason"):
        if filters.get(key) is not None:
            where[key] = filters[key]
    if filters.get("older_than_s") is not None:
        where["created_before"] = now - int(filters["older_than_s"]) * 1000
    assignee = filters.get("assignee")
    if assignee == "mine":
        where["claimed"] = me
    elif assignee == "unclaimed":
        where["claimed"] = "unclaimed"
    elif assignee is not None:
        where["claimed"] = int(assignee)
    return where


def statement_view(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "decision": row["decision"], "created_at": row["created_at"],
            "reversed_at": row["reversed_at"], **orjson.loads(row["body"])}


def clock_view(due_at: int | None, now: int) -> dict[str, Any] | None:
    if due_at is None:
        return None
    left = due_at - now
    state = "overdue" if left <= 0 else "low" if left <= LOW_CLOCK_MS else "running"
    return {"due_at": due_at, "seconds_left": max(0, left // 1000), "state": state}


async def item_view(conn: Conn, stores: Stores, item: dict[str, Any], now: int, *,
                    full: bool = False) -> dict[str, Any]:
    """An item with what a moderator needs to decide: the content (from the preserved copy
    if it is already hidden), where it was posted, who posted it, the reports and the clock."""
    view = {k: item[k] for k in ("id", "source", "priority", "target_type", "target_id",
                                 "target_key", "chat_id", "status", "report_count", "created_at",
                                 "decision", "decided_by", "decided_at")}
    view["clock"] = clock_view(item["due_at"], now) if item["status"] == "open" else None
    view |= await claim_view(conn, stores, item, now)
    view["context"] = await _context(conn, stores, item)
    if full:
        view["context"] |= await more_context(conn, stores, item, view["context"])
        reports = await stores.safety.reports_of_item(conn, item["id"])
        view["reports"] = [{k: r[k] for k in ("id", "reporter_id", "reason", "note",
                                              "created_at")} for r in reports]
    return view


async def _context(conn: Conn, stores: Stores, item: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if item["target_type"] == "message":
        message = await stores.messages.get(conn, item["target_id"])
        if message is not None:
            context["hidden"] = bool(message["removed"])
            if message["removed"]:
                copy = await stores.safety.preserved_for(conn, "message", message["id"])
                if copy is not None:
                    message = {**message, **orjson.loads(copy["content"])["message"]}
            context["message"] = message_for(
                message_view({**message, "deleted": False, "removed": False}), None)
            sender = await stores.users.get(conn, message["sender_id"] or 0)
            context["sender"] = public_user_view(sender) if sender else None
    if item["target_type"] == "media" and item["target_key"]:
        row = await stores.media.get(conn, item["target_key"])
        if row is not None:
            context["media"] = {**media_descriptor(row), "state": row["state"]}
            owner = await stores.users.get(conn, row["owner_id"] or 0)
            context["uploader"] = public_user_view(owner) if owner else None
    if item["target_type"] == "send":
        held = await stores.safety.held_send(conn, item["target_id"])
        if held is not None:
            context["send"] = {"state": held["state"], "created_at": held["created_at"],
                               **orjson.loads(held["body"])}
            sender = await stores.users.get(conn, held["sender_id"])
            context["sender"] = public_user_view(sender) if sender else None
    if item["target_type"] == "user":
        user = await stores.users.get(conn, item["target_id"])
        context["user"] = public_user_view(user) if user else None
        if item["source"] == "spam":
            context["held"] = [held_view(r) for r in await stores.held.of_item(conn, item["id"])]
    chat_id = item["chat_id"] or (item["target_id"] if item["target_type"] == "chat" else None)
    if chat_id:
        chat = await stores.chats.get(conn, chat_id)
        context["chat"] = chat_view(chat) if chat else None
    return context
