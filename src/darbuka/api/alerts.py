"""The on-call list (operators) and the alerts sent to it (moderators acknowledge them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from darbuka.api.deps import Caller, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]
RecipientId = Annotated[int, Path(gt=0, lt=2**63)]
AlertId = Annotated[int, Path(gt=0, lt=2**63)]


class RecipientBody(Body):
    name: str = Field(min_length=1, max_length=100)
    channel: Literal["email", "webhook", "chat"]
    # An e-mail address, an http(s) URL (checked like bot webhooks), or a chat id.
    target: str = Field(min_length=1, max_length=500)
    # 1: alerted at once; 2: when an order is escalated to operators; 3: at the last step.
    tier: int = Field(1, ge=1, le=3)


@router.get("/moderation/alert-recipients", tags=["moderation"])
async def recipients(caller: Caller, svc: Svc) -> Json:
    """Operators: who is alerted, how, and at which tier."""
    return {"recipients": await svc.alerts.recipients(caller.user)}


@router.post("/moderation/alert-recipients", status_code=201, tags=["moderation"])
async def add_recipient(body: RecipientBody, caller: Caller, svc: Svc) -> Json:
    """Operators: put someone (an address, a paging webhook, a staff chat) on the list."""
    return await svc.alerts.do_add_recipient(caller.user, name=body.name,
                                             channel=body.channel, target=body.target,
                                             tier=body.tier)


@router.delete("/moderation/alert-recipients/{recipient_id}", status_code=204,
               tags=["moderation"])
async def remove_recipient(recipient_id: RecipientId, caller: Caller, svc: Svc) -> None:
    """Operators: take someone off the list (alerts already queued to them are dropped)."""
    await svc.alerts.do_remove_recipient(caller.user, recipient_id)


@router.get("/moderation/alerts", tags=["moderation"])
async def alerts(caller: Caller, svc: Svc) -> Json:
    """The latest alerts, newest first, with who acknowledged each."""
    return {"alerts": await svc.alerts.recent(caller.user)}


@router.post("/moderation/alerts/{alert_id}/ack", tags=["moderation"])
async def acknowledge(alert_id: AlertId, caller: Caller, svc: Svc) -> Json:
    """I have it: recorded in the audit chain (deciding the order stops escalation)."""
    return await svc.alerts.do_acknowledge(caller.user, alert_id)
