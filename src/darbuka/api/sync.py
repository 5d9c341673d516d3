"""Catching up and waiting for events over HTTP (the socket does the same on `/api/v1/ws`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from darbuka.api.deps import Caller, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.stream import encode_cursor

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


@router.get("/sync", tags=["sync"])
async def sync(caller: Caller, svc: Svc,
               cursor: Annotated[str | None, Query(max_length=200)] = None,
               timeout: Annotated[float, Query(ge=0, le=60)] = 0) -> Json:  # noqa: ASYNC109 - the API's name
    """Events after `cursor`, oldest first; waits up to `timeout` seconds when there are none.

    No cursor (or one too far behind) gives `reset: true` with the chat list and a fresh
    cursor. `more: true` means call again at once with the new cursor.
    """
    user_id = caller.user_id
    after = svc.sync.check_cursor(cursor)
    if await svc.sync.needs_reset(user_id, after):
        return await svc.sync.reset_state(user_id)
    assert after is not None  # noqa: S101 - needs_reset is true for None
    page = await svc.sync.wait_page(user_id, after, device_id=caller.device_id, wait_s=timeout)
    return {"events": page.events, "cursor": encode_cursor(page.last_pos), "more": page.more}
