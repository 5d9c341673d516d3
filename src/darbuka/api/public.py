"""Public groups and channels: search, the preview anyone can read, invite links."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from darbuka.api.deps import Caller, Svc
from darbuka.api.json import Json as JsonResponse

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


Token = Annotated[str, Path(max_length=64, description="invite token")]


@router.get("/public/search", tags=["public"])
async def search_public(caller: Caller, svc: Svc,
                        q: Annotated[str, Query(min_length=1, max_length=64)],
                        limit: Annotated[int, Query(ge=1, le=50)] = 20) -> Json:
    """Public groups and channels whose title contains `q` or whose @handle starts with it,
    biggest first."""
    return {"chats": await svc.public.search(q, limit)}


@router.get("/public/chats/{handle}", tags=["public"])
async def public_chat(handle: Annotated[str, Path(max_length=64)], svc: Svc) -> Json:
    """A public group or channel by @handle, with a channel's last 50 posts. No sign-in."""
    chat, posts = await svc.public.preview(handle)
    return {"chat": chat, "posts": posts}


@router.get("/invites/{token}", tags=["public"])
async def invite_preview(token: Token, caller: Caller, svc: Svc) -> Json:
    """What an invite link leads to. Unknown, revoked, expired and used-up links are the
    same 404; lookups are rate-limited."""
    return await svc.public.invite_preview(caller.user_id, token)


@router.post("/invites/{token}/join", tags=["public"])
async def join_by_invite(token: Token, caller: Caller, svc: Svc) -> Json:
    """Join the group or channel of an invite link; answers the chat — or, where the chat
    wants approval, `join_request` (admins approve it). A banned person gets 403 `banned`."""
    return await svc.public.do_join_by_invite(caller.user_id, token)
