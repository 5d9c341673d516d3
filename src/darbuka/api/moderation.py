"""Moderators' and operators' routes: the queue, decisions, appeals to decide, orders to
confirm or refuse (and enter by hand), preserved copies. Role checks live in the services."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from darbuka.api.deps import Caller, Svc, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.media import Variant, send_variant
from darbuka.api.orders import OrderBody, OrderId
from darbuka.api.schemas import Body, Millis
from darbuka.safety.moderation import Action, Source, TargetKind
from darbuka.safety.orders import CannotExecute
from darbuka.safety.statements import Reason

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


ItemId = Annotated[int, Path(gt=0, lt=2**63)]


AppealId = Annotated[int, Path(gt=0, lt=2**63)]


CopyId = Annotated[int, Path(gt=0, lt=2**63)]


class DecisionBody(Body):
    action: Action
    # "illegal": against the law (name it in legal_ground); "terms": against our terms.
    ground: Literal["illegal", "terms"] = "terms"
    reason: Reason = "other"
    facts: str = Field("", max_length=5000)
    legal_ground: str = Field("", max_length=500)
    clause: str = Field("", max_length=500)
    # When a suspension ends (ms); none for a removal, a ban or a permanent closure.
    end_date: Millis | None = Field(None, gt=0, lt=2**53)


class AppealDecisionBody(Body):
    outcome: Literal["upheld", "reversed"]
    reply: str = Field("", max_length=4000)


class ConfirmOrderBody(Body):
    facts: str = Field("", max_length=5000)


class RefuseOrderBody(Body):
    """Annex III: why the order could not be carried out."""

    reason: CannotExecute
    explanation: str = Field("", max_length=5000)


class ExtendBody(Body):
    days: int = Field(ge=1, le=3650)


class SettingsBody(Body):
    """A moderator's preview settings; what is left out stays as it was."""

    blur: bool | None = None
    greyscale: bool | None = None
    muted: bool | None = None
    video_strip: bool | None = None


@router.get("/moderation/queue", tags=["moderation"])
async def queue(caller: Caller, svc: Svc,
                status: Literal["open", "actioned", "dismissed"] = "open",
                limit: Annotated[int, Query(ge=1, le=500)] = 100,
                source: Source | None = None, target_type: TargetKind | None = None,
                reason: Reason | None = None,
                older_than_s: Annotated[int | None, Query(ge=0, lt=2**40)] = None,
                assignee: Annotated[str | None, Query(
                    pattern=r"^(mine|unclaimed|[1-9][0-9]{0,17})$")] = None) -> Json:
    """The queue by priority (orders, referrals, hash matches, reports), then age. Narrowed
    by `source`, `target_type`, `reason` (of a report on it), `older_than_s` (waiting at
    least this long) and `assignee` (`mine`, `unclaimed` or a moderator's id). Each item
    says who has claimed it (`claimed_by`, `claimed_at`, `claim_expires_at`)."""
    filters = {"source": source, "target_type": target_type, "reason": reason,
               "older_than_s": older_than_s, "assignee": assignee}
    return {"items": await svc.moderation.queue(caller.user, status=status, limit=limit,
                                                filters=filters)}


@router.post("/moderation/items/{item_id}/claim", tags=["moderation"])
async def claim(item_id: ItemId, caller: Caller, svc: Svc) -> Json:
    """Claim an open item for 15 minutes (again: renewed); 409 `item_claimed` while another
    moderator holds it. Others may not decide it meanwhile (operators may)."""
    return await svc.moderation.do_claim(caller.user, item_id)


@router.delete("/moderation/items/{item_id}/claim", tags=["moderation"])
async def release(item_id: ItemId, caller: Caller, svc: Svc) -> Json:
    """Give a claimed item back (your own claim; operators: anyone's)."""
    return await svc.moderation.do_release(caller.user, item_id)


@router.get("/moderation/items/{item_id}/media/{variant}", tags=["moderation"],
            response_class=Response)
async def preview(item_id: ItemId, variant: Variant, request: Request, caller: Caller,
                  svc: Svc) -> Response:
    """The item's file (`thumb`, `screen`, `poster`, `strip`, `low`, `voice`, ...) held,
    removed or anywhere, for staff; never cached. Viewing a removed file is audited."""
    wanted = request.headers.get("range", "")
    row = await svc.previews.media_for(caller.user, item_id, variant,
                                       audit=not wanted or wanted.startswith("bytes=0-"))
    return await send_variant(row, variant, request, svc, cache="private, no-store")


@router.get("/moderation/settings", tags=["moderation"])
async def settings(caller: Caller, svc: Svc) -> Json:
    """Your preview settings: `blur`, `greyscale`, `muted`, `video_strip` (all on at first)."""
    return await svc.previews.settings(caller.user)


@router.put("/moderation/settings", tags=["moderation"])
async def save_settings(body: SettingsBody, caller: Caller, svc: Svc) -> Json:
    """Change your preview settings (on all your devices); answers all of them."""
    changes = {k: v for k, v in dump(body).items() if v is not None}
    return await svc.previews.do_set_settings(caller.user, changes)


@router.get("/moderation/items/{item_id}", tags=["moderation"])
async def item(item_id: ItemId, caller: Caller, svc: Svc) -> Json:
    """One item with its context, its reports and, for orders, its clock."""
    return await svc.moderation.item(caller.user, item_id)


@router.post("/moderation/items/{item_id}/decision", tags=["moderation"])
async def decide(item_id: ItemId, body: DecisionBody, caller: Caller, svc: Svc) -> Json:
    """Act on an item (remove, suspend, ban, close) or dismiss it; the user gets a statement."""
    return await svc.moderation.do_decide(caller.user, item_id, dump(body) | {
        "action": body.action})


@router.get("/moderation/appeals", tags=["moderation"])
async def open_appeals(caller: Caller, svc: Svc) -> Json:
    """Open appeals, each with the statement it contests."""
    return {"appeals": await svc.appeals.open_appeals(caller.user)}


@router.post("/moderation/appeals/{appeal_id}/decision", tags=["moderation"])
async def decide_appeal(appeal_id: AppealId, body: AppealDecisionBody, caller: Caller,
                        svc: Svc) -> Json:
    """Uphold or reverse; a reversal restores the content everywhere. Not your own decision."""
    return await svc.appeals.do_decide(caller.user, appeal_id, body.outcome, body.reply)


@router.post("/moderation/orders/{order_id}/confirm", tags=["moderation"])
async def confirm_order(order_id: OrderId, body: ConfirmOrderBody, caller: Caller,
                        svc: Svc) -> Json:
    """Confirm a removal order: the content stays removed; Annex II is recorded."""
    return await svc.orders.do_confirm(caller.user, order_id, dump(body))


@router.post("/moderation/orders/{order_id}/refuse", tags=["moderation"])
async def refuse_order(order_id: OrderId, body: RefuseOrderBody, caller: Caller,
                       svc: Svc) -> Json:
    """Annex III: the order cannot be carried out (and why); disabled content comes back."""
    return await svc.orders.do_refuse(caller.user, order_id, dump(body) | {
        "reason": body.reason})


@router.post("/moderation/orders/by-mail", status_code=201, tags=["moderation"])
async def order_by_mail(body: OrderBody, caller: Caller, svc: Svc) -> Json:
    """Operators enter an order that arrived by post or e-mail; its clock starts now."""
    return await svc.orders.do_receive(caller.user, dump(body), channel="mail")


@router.get("/moderation/preserved", tags=["moderation"])
async def find_preserved(caller: Caller, svc: Svc,
                         target_type: Literal["message"] = "message",
                         target_id: Annotated[int, Query(gt=0, lt=2**63)] = 1) -> Json:
    """Which preserved copy holds a removed message (operators)."""
    return await svc.preservation.do_find(caller.user, target_type, target_id)


@router.get("/moderation/preserved-copies", tags=["moderation"])
async def list_preserved(caller: Caller, svc: Svc,
                         before: Annotated[int | None, Query(gt=0, lt=2**63)] = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Json:
    """Preserved copies, newest first, each with its purge date `keep_until` (operators;
    without the content: reading one is audited). Page on with `before` = the last id."""
    return {"copies": await svc.preservation.do_list(caller.user, before=before, limit=limit)}


@router.get("/moderation/preserved/{copy_id}", tags=["moderation"])
async def read_preserved(copy_id: CopyId, caller: Caller, svc: Svc) -> Json:
    """Read a preserved copy (operators; every read is in the audit log)."""
    return await svc.preservation.do_read(caller.user, copy_id)


@router.post("/moderation/preserved/{copy_id}/extend", tags=["moderation"])
async def extend_preserved(copy_id: CopyId, body: ExtendBody, caller: Caller,
                           svc: Svc) -> Json:
    """Keep a preserved copy longer (on an authority's request)."""
    return await svc.preservation.do_extend(caller.user, copy_id, body.days)
