"""Is the server up: liveness and version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from darbuka import __version__
from darbuka.api.deps import Svc
from darbuka.api.json import Json as JsonResponse

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


@router.get("/health", tags=["server"])
async def health(svc: Svc) -> Json:
    """Liveness, the version, and where sign-in codes go (`console` or `webhook`)."""
    return {"status": "ok", "version": __version__, "code_sender": svc.auth.code_sender_name}
