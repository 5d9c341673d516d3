"""Search: messages the caller may see, and their chats and people by name."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from darbuka.api.deps import Caller, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.services.search import MAX_QUERY

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


@router.get("/search", tags=["search"])
async def search(caller: Caller, svc: Svc,
                 q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
                 chat_id: Annotated[int | None, Query(ge=1, lt=2**63)] = None,
                 before: Annotated[int | None, Query(ge=1, lt=2**63)] = None,
                 limit: Annotated[int, Query(ge=1, le=50)] = 20) -> Json:
    """Messages holding every word of `q` (each as the start of a word; case, diacritics,
    Arabic tashkeel and letter forms aside) that the caller may see, newest first; within
    one chat with `chat_id`. Each hit is `{"message", "ranges"}`, `ranges` being
    `[start, end)` pairs in UTF-16 code units of the message's text. `next_before` (a
    message id) asks for the next page. A search across chats also answers, on its first
    page, `chats` (the caller's groups and channels) and `people` (the other sides of
    their direct chats) whose names match."""
    return await svc.search.search(caller.user_id, q, chat_id=chat_id, before=before,
                                   limit=limit)
