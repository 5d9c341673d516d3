"""Chat admins' tools: bans, join requests, the admin log, and taking a message or a person
to the platform's moderators. (Slow mode and join approval are settings of
`PATCH /chats/{id}`.)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import Field

from darbuka.api.deps import Caller, ChatId, Svc, UserId, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body, Id
from darbuka.safety.statements import Reason

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


class EscalateBody(Body):
    # One of the two: a message of the chat, or a member (or someone banned from it).
    message_id: Id | None = None
    user_id: Id | None = None
    reason: Reason
    note: str = Field("", max_length=1000)


@router.get("/chats/{chat_id}/bans", tags=["chat admins"])
async def list_bans(chat_id: ChatId, caller: Caller, svc: Svc,
                    after: Annotated[int, Query(ge=0, lt=2**63)] = 0,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Json:
    """Who is banned from the chat, by user id (admins with `remove_members`)."""
    return {"bans": await svc.bans.bans(caller.user_id, chat_id, after=after, limit=limit)}


@router.put("/chats/{chat_id}/bans/{user_id}", status_code=204, tags=["chat admins"])
async def ban(chat_id: ChatId, user_id: UserId, caller: Caller, svc: Svc) -> Response:
    """Ban someone: removed if a member, and kept out — no rejoining by handle, invite link,
    join request or an admin adding them (admins with `remove_members`, on those they may
    remove)."""
    await svc.bans.do_ban(caller.user_id, chat_id, user_id)
    return Response(status_code=204)


@router.delete("/chats/{chat_id}/bans/{user_id}", status_code=204, tags=["chat admins"])
async def unban(chat_id: ChatId, user_id: UserId, caller: Caller, svc: Svc) -> Response:
    """Lift a ban: they may join again (they are not added back)."""
    await svc.bans.do_unban(caller.user_id, chat_id, user_id)
    return Response(status_code=204)


@router.get("/chats/{chat_id}/join_requests", tags=["chat admins"])
async def list_join_requests(chat_id: ChatId, caller: Caller, svc: Svc,
                             limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Json:
    """Requests to join a chat with `join_approval`, oldest first (admins with
    `add_members`)."""
    rows = await svc.join_requests.requests(caller.user_id, chat_id, limit=limit)
    return {"join_requests": rows}


@router.post("/chats/{chat_id}/join_requests/{user_id}/approve", status_code=204,
             tags=["chat admins"])
async def approve_join(chat_id: ChatId, user_id: UserId, caller: Caller,
                       svc: Svc) -> Response:
    """Let the person who asked in (admins with `add_members`)."""
    await svc.join_requests.do_decide(caller.user_id, chat_id, user_id, approve=True)
    return Response(status_code=204)


@router.delete("/chats/{chat_id}/join_requests/{user_id}", status_code=204,
               tags=["chat admins"])
async def decline_join(chat_id: ChatId, user_id: UserId, caller: Caller,
                       svc: Svc) -> Response:
    """Decline a request to join (admins with `add_members`); they may ask again."""
    await svc.join_requests.do_decide(caller.user_id, chat_id, user_id, approve=False)
    return Response(status_code=204)


@router.get("/chats/{chat_id}/admin_log", tags=["chat admins"])
async def admin_log(chat_id: ChatId, caller: Caller, svc: Svc,
                    before: Annotated[int | None, Query(gt=0, lt=2**63)] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Json:
    """Every admin action in the chat, newest first (owner and admins); page with `before`
    = the last entry id you got."""
    entries = await svc.admin_log.entries(caller.user_id, chat_id, before=before, limit=limit)
    return {"entries": entries}


@router.post("/chats/{chat_id}/escalations", status_code=201, tags=["chat admins"])
async def escalate(chat_id: ChatId, body: EscalateBody, caller: Caller, svc: Svc) -> Json:
    """Take a message of the chat, or a member, to the platform's moderation queue in one
    action (owner and admins): answers the report made, as `POST /reports` does."""
    return await svc.moderation.do_escalate(caller.user, chat_id,
                                            dump(body) | {"reason": body.reason})
