"""What everyone has in trust and safety: reports, statements of reasons, appeals.
Role checks live in the services (`safety/roles.py`), like every other rule."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from darbuka.api.deps import Caller, Svc, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body, Id
from darbuka.safety.moderation import TargetType
from darbuka.safety.statements import Reason

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


class ReportBody(Body):
    target_type: TargetType
    target_id: Id
    reason: Reason
    note: str = Field("", max_length=1000)


class AppealBody(Body):
    statement_id: Id
    text: str = Field(min_length=1, max_length=4000)


@router.post("/reports", status_code=201, tags=["safety"])
async def report(body: ReportBody, caller: Caller, svc: Svc) -> Json:
    """Report a message, a user or a chat you can see. You get `report.resolved` later."""
    return await svc.moderation.do_report(caller.user, dump(body) | {"reason": body.reason})


@router.get("/reports", tags=["safety"])
async def my_reports(caller: Caller, svc: Svc) -> Json:
    """Your reports and their outcomes."""
    return {"reports": await svc.moderation.my_reports(caller.user_id)}


@router.get("/statements", tags=["safety"])
async def my_statements(caller: Caller, svc: Svc) -> Json:
    """Statements of reasons for decisions about your content or account."""
    return {"statements": await svc.moderation.statements_of(caller.user_id)}


@router.post("/appeals", status_code=201, tags=["safety"])
async def appeal(body: AppealBody, caller: Caller, svc: Svc) -> Json:
    """Complain about a decision (a statement of reasons you received)."""
    return await svc.appeals.do_appeal(caller.user_id, body.statement_id, body.text)


@router.get("/appeals", tags=["safety"])
async def my_appeals(caller: Caller, svc: Svc) -> Json:
    """Your appeals and their outcomes."""
    return {"appeals": await svc.appeals.mine(caller.user_id)}
