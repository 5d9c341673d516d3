"""Chats: creating, the chat list, title and handle, pins, members, roles and rights,
joining and leaving, the chat photo, invite links."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from darbuka.api.deps import Caller, ChatId, Svc, UserId, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import AvatarBody, Body, Id

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


InviteId = Annotated[int, Path(gt=0, lt=2**63, description="invite id")]


class ChatCreateBody(Body):
    kind: Literal["direct", "group", "channel"]
    user_id: Id | None = None
    title: str | None = Field(None, max_length=128)
    description: str | None = Field(None, max_length=1024)
    member_ids: list[Id] = Field(default_factory=list, max_length=20_000)
    public: bool = False
    # Groups and channels: public at once under @handle, with its /c/<handle> page (the
    # rule of PATCH /chats/{id}'s handle); 409 when taken or reserved, nothing created.
    handle: str | None = Field(None, max_length=64)


class ChatUpdateBody(Body):
    title: str | None = Field(None, max_length=128)
    description: str | None = Field(None, max_length=1024)
    # Makes a group or channel public under @handle; null makes it private again.
    handle: str | None = Field(None, max_length=64)
    # Channels: sign posts with the admin's name (else posts are the channel's).
    sign_posts: bool | None = None
    # Slow mode: members who are not admins post at most once per this many seconds (0: off).
    slow_mode_s: int | None = Field(None, ge=0, le=3600)
    # Joins by handle or invite link become requests that admins approve.
    join_approval: bool | None = None


class PinBody(Body):
    message_id: Id


class AddMembersBody(Body):
    user_ids: list[Id] = Field(min_length=1, max_length=1000)


class RoleBody(Body):
    role: Literal["admin", "member", "subscriber"]


class RightsBody(Body):
    rights: list[str] = Field(max_length=7)


class InviteBody(Body):
    expires_in_s: int | None = Field(None, ge=60, le=366 * 24 * 3600)
    max_uses: int | None = Field(None, ge=1, le=100_000)


@router.post("/chats", tags=["chats"])
async def create_chat(body: ChatCreateBody, caller: Caller, svc: Svc,
                      response: Response) -> Json:
    """Create a direct chat (or get the one that exists), a group or a channel."""
    chat, created = await svc.chats.do_create(caller.user_id, dump(body) | {"kind": body.kind})
    response.status_code = 201 if created else 200
    return chat


@router.get("/chats", tags=["chats"])
async def list_chats(caller: Caller, svc: Svc) -> Json:
    """Your chats, each with its last message, your role and your unread count."""
    return {"chats": await svc.chats.list_for(caller.user_id)}


@router.get("/chats/{chat_id}", tags=["chats"])
async def get_chat(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """One chat you are a member of; owners and admins also get their admin `rights`.
    (A public chat you are not in is `GET /public/chats/{handle}`.)"""
    return await svc.chats.get(caller.user_id, chat_id)


@router.patch("/chats/{chat_id}", tags=["chats"])
async def update_chat(chat_id: ChatId, body: ChatUpdateBody, caller: Caller, svc: Svc) -> Json:
    """Rename or describe a group or channel, set its slow mode or join approval (owner, and
    admins with `change_info`). A new title posts a system message."""
    return await svc.chats.do_update(caller.user_id, chat_id, dump(body))


@router.put("/chats/{chat_id}/pin", tags=["chats"])
async def pin_message(chat_id: ChatId, body: PinBody, caller: Caller, svc: Svc) -> Json:
    """Pin a message at the top of the chat (`pinned_message_id`); admins with the `pin`
    right, or either side of a direct chat."""
    return await svc.chats.do_pin(caller.user_id, chat_id, body.message_id)


@router.delete("/chats/{chat_id}/pin", tags=["chats"])
async def unpin_message(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """Unpin the chat's pinned message (the same people who may pin)."""
    return await svc.chats.do_pin(caller.user_id, chat_id, None)


@router.get("/chats/{chat_id}/members", tags=["chats"])
async def list_members(chat_id: ChatId, caller: Caller, svc: Svc,
                       after: Annotated[int, Query(ge=0, lt=2**63)] = 0,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Json:
    """Members by user id; page with `after` = the last user id you got. Owners and admins
    come with their `rights`."""
    members = await svc.members.members(caller.user_id, chat_id, after=after, limit=limit)
    return {"members": members}


@router.post("/chats/{chat_id}/members", tags=["chats"])
async def add_members(chat_id: ChatId, body: AddMembersBody, caller: Caller, svc: Svc) -> Json:
    """Add users (owner and admins); `added` lists those who were not members yet."""
    return {"added": await svc.members.do_add_members(caller.user_id, chat_id, body.user_ids)}


@router.delete("/chats/{chat_id}/members/{user_id}", status_code=204, tags=["chats"])
async def remove_member(chat_id: ChatId, user_id: UserId, caller: Caller,
                        svc: Svc) -> Response:
    """Remove a member (owner, and admins with `remove_members`: plain members and the
    admins they appointed)."""
    await svc.members.do_remove_member(caller.user_id, chat_id, user_id)
    return Response(status_code=204)


@router.patch("/chats/{chat_id}/members/{user_id}", status_code=204, tags=["chats"])
async def set_role(chat_id: ChatId, user_id: UserId, body: RoleBody, caller: Caller,
                   svc: Svc) -> Response:
    """Make a member admin, or back (owner, and admins with `add_admins`: they give at most
    their own rights, and demote only the admins they appointed)."""
    await svc.members.do_set_role(caller.user_id, chat_id, user_id, body.role)
    return Response(status_code=204)


@router.put("/chats/{chat_id}/members/{user_id}/rights", tags=["chats"])
async def set_rights(chat_id: ChatId, user_id: UserId, body: RightsBody, caller: Caller,
                     svc: Svc) -> Json:
    """Set an admin's rights: any of read_all, add_members, remove_members, add_admins,
    change_info, pin, write (owner, or the admin with add_admins who appointed them; nobody
    their own, nobody grants a right they lack)."""
    rights = await svc.members.do_set_rights(caller.user_id, chat_id, user_id, body.rights)
    return {"user_id": user_id, "rights": rights}


@router.post("/chats/{chat_id}/join", tags=["chats"])
async def join_chat(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """Join a public group or subscribe to a public channel; answers the chat, or
    `join_request` where the chat wants approval. A banned person gets 403 `banned`."""
    return await svc.members.do_join(caller.user_id, chat_id)


@router.post("/chats/{chat_id}/leave", status_code=204, tags=["chats"])
async def leave_chat(chat_id: ChatId, caller: Caller, svc: Svc) -> Response:
    """Leave a group or unsubscribe from a channel (the owner cannot leave)."""
    await svc.members.do_leave(caller.user_id, chat_id)
    return Response(status_code=204)


@router.put("/chats/{chat_id}/avatar", tags=["chats"])
async def set_chat_avatar(chat_id: ChatId, body: AvatarBody, caller: Caller,
                          svc: Svc) -> dict[str, Any]:
    """A group's or channel's photo (its owner, and admins with the right `change_info`)."""
    return await svc.avatars.do_set_chat(caller.user_id, chat_id, body.media_id)


@router.delete("/chats/{chat_id}/avatar", tags=["chats"])
async def remove_chat_avatar(chat_id: ChatId, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Remove a group's or channel's photo (owner, admins with `change_info`)."""
    return await svc.avatars.do_set_chat(caller.user_id, chat_id, None)


@router.post("/chats/{chat_id}/invites", status_code=201, tags=["public"])
async def create_invite(chat_id: ChatId, body: InviteBody, caller: Caller, svc: Svc) -> Json:
    """Make an invite link (admins with add_members); the `token` is shown only now."""
    return await svc.public.do_create_invite(caller.user_id, chat_id, dump(body))


@router.get("/chats/{chat_id}/invites", tags=["public"])
async def list_invites(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """The chat's invite links, without their tokens (admins with add_members)."""
    return {"invites": await svc.public.invites(caller.user_id, chat_id)}


@router.delete("/chats/{chat_id}/invites/{invite_id}", status_code=204,
                      tags=["public"])
async def revoke_invite(chat_id: ChatId, invite_id: InviteId, caller: Caller,
                        svc: Svc) -> Response:
    """Revoke an invite link: it stops working at once (admins with add_members)."""
    await svc.public.do_revoke_invite(caller.user_id, chat_id, invite_id)
    return Response(status_code=204)
