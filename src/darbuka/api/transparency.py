"""The transparency report (Regulation 2021/784 Art. 7): JSON under /api/v1 and a small
HTML page at /transparency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from darbuka.api.deps import Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.errors import BadRequest
from darbuka.safety.transparency import render_html

__all__ = ["page_router", "router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]
page_router = APIRouter()

def _period(start: str | None, end: str | None) -> tuple[date, date]:
    try:
        last = date.fromisoformat(end) if end else datetime.now(UTC).date()
        first = date.fromisoformat(start) if start else last - timedelta(days=364)
    except ValueError as exc:
        raise BadRequest("from and to are dates: YYYY-MM-DD", code="invalid_date") from exc
    if first > last or (last - first).days > 3660:
        raise BadRequest("from must be before to, at most ten years apart",
                         code="invalid_period")
    return first, last


DateParam = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")]


@router.get("/transparency", tags=["safety"])
async def transparency(svc: Svc, start: Annotated[DateParam, Query(alias="from")] = None,
                       end: Annotated[DateParam, Query(alias="to")] = None) -> Json:
    """The transparency report (Regulation 2021/784 Art. 7) for a period, as JSON."""
    return await svc.transparency.report(*_period(start, end))


@page_router.get("/transparency", include_in_schema=False)
async def transparency_page(svc: Svc, start: Annotated[DateParam, Query(alias="from")] = None,
                            end: Annotated[DateParam, Query(alias="to")] = None,
                            ) -> HTMLResponse:
    report_ = await svc.transparency.report(*_period(start, end))
    return HTMLResponse(render_html(report_), headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
