"""Signing in with a phone number and a one-time code; the signed-in devices."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from darbuka.api.deps import Caller, Svc, UserId, client_ip
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


class RequestCodeBody(Body):
    phone: str = Field(max_length=32, examples=["+441632960961"])


class SignInBody(Body):
    phone: str = Field(max_length=32)
    code: str = Field(max_length=6, examples=["123456"])
    device_name: str = Field("device", max_length=64)


@router.post("/auth/request-code", tags=["auth"])
async def request_code(body: RequestCodeBody, request: Request, svc: Svc) -> Json:
    """Send a 6-digit code to the number (console sender: the server log)."""
    return await svc.auth.do_request_code(body.phone, client_ip(request))


@router.post("/auth/sign-in", tags=["auth"])
async def sign_in(body: SignInBody, request: Request, svc: Svc) -> Json:
    """Trade the code for a device token: `{"token", "user"}`. Shown once; keep it."""
    return await svc.auth.do_sign_in(body.phone, body.code, body.device_name, client_ip(request))


@router.get("/devices", tags=["profile"])
async def list_devices(caller: Caller, svc: Svc) -> Json:
    """Your signed-in devices; `current` marks the one asking."""
    return {"devices": await svc.auth.list_devices(caller)}


@router.delete("/devices/{device_id}", status_code=204, tags=["profile"])
async def revoke_device(device_id: UserId, caller: Caller, svc: Svc) -> Response:
    """Sign a device out: its token stops working at once."""
    await svc.auth.do_revoke_device(caller, device_id)
    return Response(status_code=204)
