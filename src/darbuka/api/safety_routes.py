"""Trust-and-safety routes: reports and appeals for everyone, the queue for moderators,
removal orders for authorities, preservation for operators, the transparency report for all.
Role checks live in the services (`safety/roles.py`), like every other rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from darbuka.api.deps import Caller, Svc, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.safety_schemas import (
    AppealBody,
    AppealDecisionBody,
    ConfirmOrderBody,
    DecisionBody,
    ExtendBody,
    OrderBody,
    RefuseOrderBody,
    ReportBody,
)
from darbuka.errors import BadRequest
from darbuka.safety.transparency import render_html

__all__ = ["safety_router", "transparency_page_router"]

safety_router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
transparency_page_router = APIRouter()
Json = dict[str, Any]
ItemId = Annotated[int, Path(gt=0, lt=2**63)]
AppealId = Annotated[int, Path(gt=0, lt=2**63)]
OrderId = Annotated[int, Path(gt=0, lt=2**63)]
CopyId = Annotated[int, Path(gt=0, lt=2**63)]


# -- everyone -----------------------------------------------------------------------------

@safety_router.post("/reports", status_code=201, tags=["safety"])
async def report(body: ReportBody, caller: Caller, svc: Svc) -> Json:
    """Report a message, a user or a chat you can see. You get `report.resolved` later."""
    return await svc.moderation.do_report(caller.user, dump(body) | {"reason": body.reason})


@safety_router.get("/reports", tags=["safety"])
async def my_reports(caller: Caller, svc: Svc) -> Json:
    """Your reports and their outcomes."""
    return {"reports": await svc.moderation.my_reports(caller.user_id)}


@safety_router.get("/statements", tags=["safety"])
async def my_statements(caller: Caller, svc: Svc) -> Json:
    """Statements of reasons for decisions about your content or account."""
    return {"statements": await svc.moderation.statements_of(caller.user_id)}


@safety_router.post("/appeals", status_code=201, tags=["safety"])
async def appeal(body: AppealBody, caller: Caller, svc: Svc) -> Json:
    """Complain about a decision (a statement of reasons you received)."""
    return await svc.appeals.do_appeal(caller.user_id, body.statement_id, body.text)


@safety_router.get("/appeals", tags=["safety"])
async def my_appeals(caller: Caller, svc: Svc) -> Json:
    """Your appeals and their outcomes."""
    return {"appeals": await svc.appeals.mine(caller.user_id)}


# -- moderators ---------------------------------------------------------------------------

@safety_router.get("/moderation/queue", tags=["moderation"])
async def queue(caller: Caller, svc: Svc,
                status: Literal["open", "actioned", "dismissed"] = "open",
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Json:
    """The queue by priority (orders, referrals, hash matches, reports), then age."""
    return {"items": await svc.moderation.queue(caller.user, status=status, limit=limit)}


@safety_router.get("/moderation/items/{item_id}", tags=["moderation"])
async def item(item_id: ItemId, caller: Caller, svc: Svc) -> Json:
    """One item with its context, its reports and, for orders, its clock."""
    return await svc.moderation.item(caller.user, item_id)


@safety_router.post("/moderation/items/{item_id}/decision", tags=["moderation"])
async def decide(item_id: ItemId, body: DecisionBody, caller: Caller, svc: Svc) -> Json:
    """Act on an item (remove, suspend, ban, close) or dismiss it; the user gets a statement."""
    return await svc.moderation.do_decide(caller.user, item_id, dump(body) | {
        "action": body.action})


@safety_router.get("/moderation/appeals", tags=["moderation"])
async def open_appeals(caller: Caller, svc: Svc) -> Json:
    """Open appeals, each with the statement it contests."""
    return {"appeals": await svc.appeals.open_appeals(caller.user)}


@safety_router.post("/moderation/appeals/{appeal_id}/decision", tags=["moderation"])
async def decide_appeal(appeal_id: AppealId, body: AppealDecisionBody, caller: Caller,
                        svc: Svc) -> Json:
    """Uphold or reverse; a reversal restores the content everywhere. Not your own decision."""
    return await svc.appeals.do_decide(caller.user, appeal_id, body.outcome, body.reply)


@safety_router.post("/moderation/orders/{order_id}/confirm", tags=["moderation"])
async def confirm_order(order_id: OrderId, body: ConfirmOrderBody, caller: Caller,
                        svc: Svc) -> Json:
    """Confirm a removal order: the content stays removed; Annex II is recorded."""
    return await svc.orders.do_confirm(caller.user, order_id, dump(body))


@safety_router.post("/moderation/orders/{order_id}/refuse", tags=["moderation"])
async def refuse_order(order_id: OrderId, body: RefuseOrderBody, caller: Caller,
                       svc: Svc) -> Json:
    """Annex III: the order cannot be carried out (and why); disabled content comes back."""
    return await svc.orders.do_refuse(caller.user, order_id, dump(body) | {
        "reason": body.reason})


@safety_router.post("/moderation/orders/by-mail", status_code=201, tags=["moderation"])
async def order_by_mail(body: OrderBody, caller: Caller, svc: Svc) -> Json:
    """Operators enter an order that arrived by post or e-mail; its clock starts now."""
    return await svc.orders.do_receive(caller.user, dump(body), channel="mail")


@safety_router.get("/moderation/preserved", tags=["moderation"])
async def find_preserved(caller: Caller, svc: Svc,
                         target_type: Literal["message"] = "message",
                         target_id: Annotated[int, Query(gt=0, lt=2**63)] = 1) -> Json:
    """Which preserved copy holds a removed message (operators)."""
    return await svc.preservation.do_find(caller.user, target_type, target_id)


@safety_router.get("/moderation/preserved/{copy_id}", tags=["moderation"])
async def read_preserved(copy_id: CopyId, caller: Caller, svc: Svc) -> Json:
    """Read a preserved copy (operators; every read is in the audit log)."""
    return await svc.preservation.do_read(caller.user, copy_id)


@safety_router.post("/moderation/preserved/{copy_id}/extend", tags=["moderation"])
async def extend_preserved(copy_id: CopyId, body: ExtendBody, caller: Caller,
                           svc: Svc) -> Json:
    """Keep a preserved copy longer (on an authority's request)."""
    return await svc.preservation.do_extend(caller.user, copy_id, body.days)


# -- authorities --------------------------------------------------------------------------

@safety_router.post("/orders", status_code=201, tags=["orders"])
async def submit_order(body: OrderBody, caller: Caller, svc: Svc) -> Json:
    """Submit a removal order (accounts of kind `authority`). Content is disabled on receipt."""
    return await svc.orders.do_receive(caller.user, dump(body), channel="api")


@safety_router.get("/orders", tags=["orders"])
async def list_orders(caller: Caller, svc: Svc) -> Json:
    """An authority's own orders (staff: all), each with its state, clock and response."""
    return {"orders": await svc.orders.visible_to(caller.user)}


@safety_router.get("/orders/{order_id}", tags=["orders"])
async def get_order(order_id: OrderId, caller: Caller, svc: Svc) -> Json:
    """One order with the response recorded for it (Annex II or III)."""
    return await svc.orders.get(caller.user, order_id)


@safety_router.post("/orders/{order_id}/withdraw", tags=["orders"])
async def withdraw_order(order_id: OrderId, caller: Caller, svc: Svc) -> Json:
    """Withdraw an order (its authority) or record its annulment (operators): reinstated."""
    return await svc.orders.do_withdraw(caller.user, order_id)


# -- the transparency report --------------------------------------------------------------

def _period(start: str | None, end: str | None) -> tuple[date, date]:
    try:
        last = date.fromisoformat(end) if end else datetime.now(UTC).date()
        first = date.fromisoformat(start) if start else last - timedelta(days=364)
    except ValueError as exc:
        raise BadRequest("from and to are dates: YYYY-MM-DD", code="invalid_date") from exc
    if first > last or (last - first).days > 3660:
        raise BadRequest("from must be before to, at most ten years apart",
                         code="invalid_period")
    return first, last


DateParam = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")]


@safety_router.get("/transparency", tags=["safety"])
async def transparency(svc: Svc, start: Annotated[DateParam, Query(alias="from")] = None,
                       end: Annotated[DateParam, Query(alias="to")] = None) -> Json:
    """The transparency report (Regulation 2021/784 Art. 7) for a period, as JSON."""
    return await svc.transparency.report(*_period(start, end))


@transparency_page_router.get("/transparency", include_in_schema=False)
async def transparency_page(svc: Svc, start: Annotated[DateParam, Query(alias="from")] = None,
                            end: Annotated[DateParam, Query(alias="to")] = None,
                            ) -> HTMLResponse:
    report_ = await svc.transparency.report(*_period(start, end))
    return HTMLResponse(render_html(report_), headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
