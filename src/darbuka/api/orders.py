"""Removal orders (Regulation 2021/784 Art. 3) for accounts of kind `authority`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import Field

from darbuka.api.deps import Caller, Svc, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body, Id, Millis

__all__ = ["OrderBody", "OrderId", "router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


OrderId = Annotated[int, Path(gt=0, lt=2**63)]


class OrderBody(Body):
    """Annex I of Regulation 2021/784: who issued it, its reference, when, what and why."""

    issuing_authority: str = Field(min_length=1, max_length=256)
    issuing_state: str = Field("", max_length=2, examples=["DE"])
    reference: str = Field(min_length=1, max_length=128)
    issued_at: Millis = Field(gt=0, lt=2**53)
    location: str = Field(min_length=1, max_length=2048,
                          examples=["https://chat.example.org/chats/12/messages/345"])
    reasons: str = Field(min_length=1, max_length=5000)
    message_id: Id | None = None


@router.post("/orders", status_code=201, tags=["orders"])
async def submit_order(body: OrderBody, caller: Caller, svc: Svc) -> Json:
    """Submit a removal order (accounts of kind `authority`). Content is disabled on receipt."""
    return await svc.orders.do_receive(caller.user, dump(body), channel="api")


@router.get("/orders", tags=["orders"])
async def list_orders(caller: Caller, svc: Svc) -> Json:
    """An authority's own orders (staff: all), each with its state, clock and response."""
    return {"orders": await svc.orders.visible_to(caller.user)}


@router.get("/orders/{order_id}", tags=["orders"])
async def get_order(order_id: OrderId, caller: Caller, svc: Svc) -> Json:
    """One order with the response recorded for it (Annex II or III)."""
    return await svc.orders.get(caller.user, order_id)


@router.post("/orders/{order_id}/withdraw", tags=["orders"])
async def withdraw_order(order_id: OrderId, caller: Caller, svc: Svc) -> Json:
    """Withdraw an order (its authority) or record its annulment (operators): reinstated."""
    return await svc.orders.do_withdraw(caller.user, order_id)
