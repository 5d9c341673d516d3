"""A member's own settings for one chat, shared by their devices: mute and draft."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from darbuka.api.deps import Caller, ChatId, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


class MuteBody(Body):
    # Seconds from now (60 to 366 days); null or left out: until turned off.
    for_s: int | None = None
    # Let @mentions of you through the mute.
    mentions: bool = False


class DraftBody(Body):
    # At most 4,096 characters (a message's most); blank clears the draft.
    text: str = Field(description="the draft; blank clears it")


@router.put("/chats/{chat_id}/mute", tags=["chats"])
async def mute_chat(chat_id: ChatId, body: MuteBody, caller: Caller, svc: Svc) -> Json:
    """Mute a chat for you, on all your devices: for `for_s` seconds or until turned off,
    optionally letting your @mentions through. Answers `{chat_id, mute}`."""
    return await svc.mutes.do_mute(caller.user_id, chat_id, for_s=body.for_s,
                                   mentions=body.mentions)


@router.delete("/chats/{chat_id}/mute", tags=["chats"])
async def unmute_chat(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """Turn your mute of a chat off (answers `{chat_id, mute: null}`)."""
    return await svc.mutes.do_unmute(caller.user_id, chat_id)


@router.put("/chats/{chat_id}/draft", tags=["chats"])
async def save_draft(chat_id: ChatId, body: DraftBody, caller: Caller, svc: Svc) -> Json:
    """Keep what you are writing in a chat, for all your devices (blank text clears it);
    your next send there clears it. Answers `{chat_id, draft}`; `draft_too_long` past
    4,096 characters."""
    return await svc.drafts.do_save(caller.user_id, chat_id, body.text)
