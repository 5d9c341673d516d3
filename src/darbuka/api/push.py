"""Web Push: the server's public key, and this device's browser subscriptions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from darbuka.api.deps import Caller, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/push", default_response_class=JsonResponse, tags=["push"])
Json = dict[str, Any]


class Keys(Body):
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)


class SubscriptionBody(Body):
    """`PushSubscription.toJSON()` as the browser gives it, and whether notifications may
    show what messages say."""

    endpoint: str = Field(max_length=2048)
    keys: Keys
    previews: bool = True


class EndpointBody(Body):
    endpoint: str = Field(max_length=2048)


@router.get("/key")
async def get_key(_caller: Caller, svc: Svc) -> Json:
    """The server's VAPID public key (base64url), the `applicationServerKey` to subscribe
    with."""
    return {"public_key": svc.push.public_key}


@router.get("/subscriptions")
async def list_subscriptions(caller: Caller, svc: Svc) -> Json:
    """This device's subscriptions."""
    return {"subscriptions": await svc.push.subscriptions(caller.user_id, caller.device_id)}


@router.post("/subscriptions", status_code=201)
async def subscribe(body: SubscriptionBody, caller: Caller, svc: Svc) -> Json:
    """Push to this browser while you are away. The endpoint must be https on a public
    address (400 `invalid_endpoint`) unless the operator allows private ones; the keys must
    be a P-256 public key and a 16-byte secret (400 `invalid_keys`). The subscription
    belongs to this device: revoking the device removes it."""
    return await svc.push.do_subscribe(caller.user_id, caller.device_id, body.endpoint,
                                       body.keys.model_dump(), previews=body.previews)


@router.delete("/subscriptions", status_code=204)
async def unsubscribe(body: EndpointBody, caller: Caller, svc: Svc) -> Response:
    """Stop pushing to this endpoint (404 `subscription_not_found` if it is not yours)."""
    await svc.push.do_unsubscribe(caller.user_id, body.endpoint)
    return Response(status_code=204)
