"""People: your profile, others' profiles and presence, privacy, blocks, your address
book, your profile photo."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import Field

from darbuka.api.deps import Caller, Svc, UserId, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import AvatarBody, Body
from darbuka.kinds import SelfKind
from darbuka.services.privacy import Audience
from darbuka.services.views import user_view

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


class ProfileBody(Body):
    display_name: str | None = Field(None, max_length=64)
    username: str | None = Field(None, max_length=33)
    about: str | None = Field(None, max_length=512)
    kind: SelfKind | None = None


class ImportBody(Body):
    # An address book is at most a few thousand numbers; 10,000 leaves room.
    phones: list[Any] = Field(max_length=10_000)


class PrivacyBody(Body):
    find_by_phone: Audience | None = None
    last_seen: Audience | None = None
    group_add: Audience | None = None


@router.get("/me", tags=["profile"])
async def get_me(caller: Caller) -> Json:
    """Your own profile, with your phone number and staff `role` (user, moderator, operator);
    nobody else sees either."""
    return user_view(caller.user)


@router.patch("/me", tags=["profile"])
async def patch_me(body: ProfileBody, caller: Caller, svc: Svc) -> Json:
    """Change any of display name, @username (unique, case-insensitive), about, kind."""
    return await svc.users.do_update_me(caller.user_id, dump(body))


@router.get("/users/{user_id}", tags=["profile"])
async def get_user(user_id: UserId, caller: Caller, svc: Svc) -> Json:
    """Another user's public profile (no phone number); 404 `user_not_found` for an unknown
    id or someone who blocked you. Each account may look up `DARBUKA_USER_LOOKUPS_PER_HOUR`
    profiles an hour of people it shares no direct chat or group with (429 with
    `Retry-After` beyond)."""
    return await svc.users.get(caller.user_id, user_id)


@router.get("/users/by-username/{username}", tags=["profile"])
async def get_user_by_username(username: Annotated[str, Path(max_length=200)], caller: Caller,
                               svc: Svc) -> Json:
    """The user who holds exactly this @username (a leading `@` and any capitals are fine),
    as `GET /users/{user_id}` shows them. No prefix search; 404 `user_not_found` when nobody
    holds it (or its holder blocked you); each account may look up
    `DARBUKA_USERNAME_LOOKUPS_PER_HOUR` names an hour (429 with `Retry-After` beyond)."""
    return await svc.users.by_username(caller.user_id, username)


@router.get("/users/{user_id}/presence", tags=["privacy"])
async def presence(user_id: UserId, caller: Caller, svc: Svc) -> Json:
    """`status`: online, offline (with `last_seen_at`), or hidden by their settings."""
    return await svc.privacy.presence(caller.user, user_id)


@router.put("/me/avatar", tags=["profile"])
async def set_my_avatar(body: AvatarBody, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Use an upload of kind `avatar` as your profile photo."""
    return await svc.avatars.do_set_mine(caller.user_id, body.media_id)


@router.delete("/me/avatar", tags=["profile"])
async def remove_my_avatar(caller: Caller, svc: Svc) -> dict[str, Any]:
    """Remove your profile photo."""
    return await svc.avatars.do_set_mine(caller.user_id, None)


@router.get("/me/privacy", tags=["privacy"])
async def get_privacy(caller: Caller, svc: Svc) -> Json:
    """Your privacy settings: each of find_by_phone, last_seen, group_add is
    everyone, contacts (people in your uploaded address book) or nobody."""
    return await svc.privacy.get(caller.user_id)


@router.patch("/me/privacy", tags=["privacy"])
async def patch_privacy(body: PrivacyBody, caller: Caller, svc: Svc) -> Json:
    """Change any of your privacy settings; your other devices get `privacy.updated`."""
    return await svc.privacy.do_update(caller.user_id, dump(body))


@router.get("/me/blocked", tags=["privacy"])
async def list_blocked(caller: Caller, svc: Svc) -> Json:
    """The users you blocked."""
    return {"blocked": await svc.privacy.blocked(caller.user_id)}


@router.put("/me/blocked/{user_id}", status_code=204, tags=["privacy"])
async def block_user(user_id: UserId, caller: Caller, svc: Svc) -> Response:
    """Block a user: no direct messages, no adding you to groups, no finding you by
    number, no seeing your presence. They are not told."""
    await svc.privacy.do_block(caller.user_id, user_id, block=True)
    return Response(status_code=204)


@router.delete("/me/blocked/{user_id}", status_code=204, tags=["privacy"])
async def unblock_user(user_id: UserId, caller: Caller, svc: Svc) -> Response:
    """Unblock a user."""
    await svc.privacy.do_block(caller.user_id, user_id, block=False)
    return Response(status_code=204)


@router.post("/contacts/import", tags=["contacts"])
async def import_contacts(body: ImportBody, caller: Caller, svc: Svc) -> Json:
    """Which of these numbers are on Darbuka (and let you find them by number).

    Numbers without a country code are read as in your own country. Answers
    `{"users": [{"user", "phone"}], "malformed", "duplicates", "limited"}`; `limited`
    counts new numbers held back by the daily or lifetime quota (429 when none could be
    checked). Uploaded numbers are kept as keyed hashes to tell you when they join.
    """
    return await svc.contacts.do_import(caller.user, body.phones)
