"""Is the server up (liveness: `/health`) and may it take traffic (readiness: `/ready`)."""

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
    """Liveness, the version, and where sign-in codes go (`console` or `webhook`).

    It checks nothing beyond the process answering: a load balancer's readiness probe
    belongs on `/ready`."""
    return {"status": "ok", "version": __version__, "code_sender": svc.auth.code_sender_name}


@router.get("/ready", tags=["server"], responses={503: {"description": "a check failed"}})
async def ready(svc: Svc) -> JsonResponse:
    """Readiness: the database answers, the writer commits, Redis answers (when configured)
    and live delivery is not stuck (`bus.lag_s`). 200 `{"status": "ready", "checks"}`, or
    503 with `error.code` `not_ready`, the failed checks named in `failed` and `checks`."""
    found = await svc.health.check()
    failed = found.failed
    if not failed:
        return JsonResponse({"status": "ready", "checks": found.checks})
    return JsonResponse({"status": "unready", "failed": failed, "checks": found.checks,
                         "error": {"code": "not_ready",
                                   "message": "not ready: " + ", ".join(failed)}},
                        status_code=503)
