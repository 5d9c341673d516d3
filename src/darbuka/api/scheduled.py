"""Scheduled messages: held by the server until their time (`services/scheduled.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import Field

from darbuka.api.deps import Caller, ChatId, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body, Millis

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]
ScheduledId = Annotated[int, Path(gt=0, lt=2**63)]


class ScheduleBody(Body):
    client_id: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=4096)
    # When it goes out (ms since the epoch, the server's clock; within a year).
    send_at: Millis


class EditScheduledBody(Body):
    text: str | None = Field(None, max_length=4096)
    send_at: Millis | None = None


@router.post("/chats/{chat_id}/scheduled", tags=["messages"])
async def schedule(chat_id: ChatId, body: ScheduleBody, caller: Caller, svc: Svc,
                   response: Response) -> Json:
    """Hold a message until `send_at` (201); a repeat of a `client_id` returns it (200)."""
    view, new = await svc.scheduled.do_schedule(caller.user_id, chat_id, body.client_id,
                                                body.text, body.send_at)
    response.status_code = 201 if new else 200
    return view


@router.get("/chats/{chat_id}/scheduled", tags=["messages"])
async def waiting(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """What is still to be sent here, soonest first: yours, or in a channel you post in,
    every admin's."""
    return {"scheduled": await svc.scheduled.waiting(caller.user_id, chat_id)}


@router.patch("/chats/{chat_id}/scheduled/{scheduled_id}", tags=["messages"])
async def edit(chat_id: ChatId, scheduled_id: ScheduledId, body: EditScheduledBody,
               caller: Caller, svc: Svc) -> Json:
    """Change its text or its time, until it goes out."""
    return await svc.scheduled.do_edit(caller.user_id, chat_id, scheduled_id,
                                       text=body.text, send_at=body.send_at)


@router.delete("/chats/{chat_id}/scheduled/{scheduled_id}", status_code=204,
               tags=["messages"])
async def cancel(chat_id: ChatId, scheduled_id: ScheduledId, caller: Caller,
                 svc: Svc) -> None:
    """Cancel it, until it goes out."""
    await svc.scheduled.do_cancel(caller.user_id, chat_id, scheduled_id)
