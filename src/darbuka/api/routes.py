"""Every route under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from darbuka import __version__
from darbuka.api.deps import Caller, ChatId, MessageId, Svc, UserId, client_ip, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import (
    AddMembersBody,
    CallbackBody,
    ChatCreateBody,
    ChatUpdateBody,
    DeliveredBody,
    EditBody,
    PinBody,
    ProfileBody,
    ReadBody,
    RequestCodeBody,
    RoleBody,
    SendBody,
    SignInBody,
)
from darbuka.services.sending import check_send
from darbuka.services.views import user_view
from darbuka.stream import encode_cursor

__all__ = ["api_router"]

api_router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]


@api_router.get("/health", tags=["server"])
async def health(svc: Svc) -> Json:
    """Liveness, the version, and where sign-in codes go (`console` or `webhook`)."""
    return {"status": "ok", "version": __version__, "code_sender": svc.auth.code_sender_name}


# -- sign-in ------------------------------------------------------------------------------

@api_router.post("/auth/request-code", tags=["auth"])
async def request_code(body: RequestCodeBody, request: Request, svc: Svc) -> Json:
    """Send a 6-digit code to the number (console sender: the server log)."""
    return await svc.auth.do_request_code(body.phone, client_ip(request))


@api_router.post("/auth/sign-in", tags=["auth"])
async def sign_in(body: SignInBody, request: Request, svc: Svc) -> Json:
    """Trade the code for a device token: `{"token", "user"}`. Shown once; keep it."""
    return await svc.auth.do_sign_in(body.phone, body.code, body.device_name, client_ip(request))


# -- profile and devices ------------------------------------------------------------------

@api_router.get("/me", tags=["profile"])
async def get_me(caller: Caller) -> Json:
    """Your own profile, with your phone number and staff `role` (user, moderator, operator);
    nobody else sees either."""
    return user_view(caller.user)


@api_router.patch("/me", tags=["profile"])
async def patch_me(body: ProfileBody, caller: Caller, svc: Svc) -> Json:
    """Change any of display name, @username (unique, case-insensitive), about, kind."""
    return await svc.users.do_update_me(caller.user_id, dump(body))


@api_router.get("/users/{user_id}", tags=["profile"])
async def get_user(user_id: UserId, caller: Caller, svc: Svc) -> Json:
    """Another user's public profile (no phone number)."""
    return await svc.users.get(user_id)


@api_router.get("/users/by-username/{username}", tags=["profile"])
async def get_user_by_username(username: Annotated[str, Path(max_length=200)], caller: Caller,
                               svc: Svc) -> Json:
    """The user who holds exactly this @username (a leading `@` and any capitals are fine),
    as `GET /users/{user_id}` shows them. No prefix search; 404 `user_not_found` when nobody
    holds it (or its holder blocked you); each account may look up
    `DARBUKA_USERNAME_LOOKUPS_PER_HOUR` names an hour (429 with `Retry-After` beyond)."""
    return await svc.users.by_username(caller.user_id, username)


@api_router.get("/devices", tags=["profile"])
async def list_devices(caller: Caller, svc: Svc) -> Json:
    """Your signed-in devices; `current` marks the one asking."""
    return {"devices": await svc.auth.list_devices(caller)}


@api_router.delete("/devices/{device_id}", status_code=204, tags=["profile"])
async def revoke_device(device_id: UserId, caller: Caller, svc: Svc) -> Response:
    """Sign a device out: its token stops working at once."""
    await svc.auth.do_revoke_device(caller, device_id)
    return Response(status_code=204)


# -- chats --------------------------------------------------------------------------------

@api_router.post("/chats", tags=["chats"])
async def create_chat(body: ChatCreateBody, caller: Caller, svc: Svc,
                      response: Response) -> Json:
    """Create a direct chat (or get the one that exists), a group or a channel."""
    chat, created = await svc.chats.do_create(caller.user_id, dump(body) | {"kind": body.kind})
    response.status_code = 201 if created else 200
    return chat


@api_router.get("/chats", tags=["chats"])
async def list_chats(caller: Caller, svc: Svc) -> Json:
    """Your chats, each with its last message, your role and your unread count."""
    return {"chats": await svc.chats.list_for(caller.user_id)}


@api_router.get("/chats/{chat_id}", tags=["chats"])
async def get_chat(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """One chat you are a member of; owners and admins also get their admin `rights`.
    (A public chat you are not in is `GET /public/chats/{handle}`.)"""
    return await svc.chats.get(caller.user_id, chat_id)


@api_router.patch("/chats/{chat_id}", tags=["chats"])
async def update_chat(chat_id: ChatId, body: ChatUpdateBody, caller: Caller, svc: Svc) -> Json:
    """Rename or describe a group or channel (owner and admins). Posts a system message."""
    return await svc.chats.do_update(caller.user_id, chat_id, dump(body))


@api_router.put("/chats/{chat_id}/pin", tags=["chats"])
async def pin_message(chat_id: ChatId, body: PinBody, caller: Caller, svc: Svc) -> Json:
    """Pin a message at the top of the chat (`pinned_message_id`); admins with the `pin`
    right, or either side of a direct chat."""
    return await svc.chats.do_pin(caller.user_id, chat_id, body.message_id)


@api_router.delete("/chats/{chat_id}/pin", tags=["chats"])
async def unpin_message(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """Unpin the chat's pinned message (the same people who may pin)."""
    return await svc.chats.do_pin(caller.user_id, chat_id, None)


@api_router.get("/chats/{chat_id}/members", tags=["chats"])
async def list_members(chat_id: ChatId, caller: Caller, svc: Svc,
                       after: Annotated[int, Query(ge=0, lt=2**63)] = 0,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Json:
    """Members by user id; page with `after` = the last user id you got. Owners and admins
    come with their `rights`."""
    members = await svc.members.members(caller.user_id, chat_id, after=after, limit=limit)
    return {"members": members}


@api_router.post("/chats/{chat_id}/members", tags=["chats"])
async def add_members(chat_id: ChatId, body: AddMembersBody, caller: Caller, svc: Svc) -> Json:
    """Add users (owner and admins); `added` lists those who were not members yet."""
    return {"added": await svc.members.do_add_members(caller.user_id, chat_id, body.user_ids)}


@api_router.delete("/chats/{chat_id}/members/{user_id}", status_code=204, tags=["chats"])
async def remove_member(chat_id: ChatId, user_id: UserId, caller: Caller,
                        svc: Svc) -> Response:
    """Remove a member (owner and admins; admins only plain members)."""
    await svc.members.do_remove_member(caller.user_id, chat_id, user_id)
    return Response(status_code=204)


@api_router.patch("/chats/{chat_id}/members/{user_id}", status_code=204, tags=["chats"])
async def set_role(chat_id: ChatId, user_id: UserId, body: RoleBody, caller: Caller,
                   svc: Svc) -> Response:
    """Make a member admin, or back (the owner only)."""
    await svc.members.do_set_role(caller.user_id, chat_id, user_id, body.role)
    return Response(status_code=204)


@api_router.post("/chats/{chat_id}/join", tags=["chats"])
async def join_chat(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """Join a public group or subscribe to a public channel."""
    return await svc.members.do_join(caller.user_id, chat_id)


@api_router.post("/chats/{chat_id}/leave", status_code=204, tags=["chats"])
async def leave_chat(chat_id: ChatId, caller: Caller, svc: Svc) -> Response:
    """Leave a group or unsubscribe from a channel (the owner cannot leave)."""
    await svc.members.do_leave(caller.user_id, chat_id)
    return Response(status_code=204)


# -- messages -----------------------------------------------------------------------------

@api_router.post("/chats/{chat_id}/messages", tags=["messages"])
async def send_message(chat_id: ChatId, body: SendBody, caller: Caller, svc: Svc,
                       response: Response) -> Json:
    """Send once: a repeat of a `client_id` returns the original (200, not 201)."""
    req = check_send(caller.user_id, chat_id, body.client_id, body.text, body.reply_to,
                     body.forward_of, media_id=body.media_id, kind=body.kind)
    result = await svc.messages.do_send(req)
    response.status_code = 200 if result.repeated else 201
    return result.message


@api_router.get("/chats/{chat_id}/messages", tags=["messages"])
async def history(chat_id: ChatId, caller: Caller, svc: Svc,
                  before: Annotated[int | None, Query(ge=1, lt=2**63)] = None,
                  after: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Json:
    """Messages by `seq`, oldest first: the newest page, `before=seq` back, `after=seq` on."""
    messages = await svc.messages.history(caller.user_id, chat_id, before=before, after=after,
                                          limit=limit)
    return {"messages": messages}


@api_router.patch("/chats/{chat_id}/messages/{message_id}", tags=["messages"])
async def edit_message(chat_id: ChatId, message_id: MessageId, body: EditBody, caller: Caller,
                       svc: Svc) -> Json:
    """Change the text of your own message; everyone gets `message.edited`."""
    return await svc.messages.do_edit(caller.user_id, chat_id, message_id, body.text)


@api_router.delete("/chats/{chat_id}/messages/{message_id}", tags=["messages"])
async def delete_message(chat_id: ChatId, message_id: MessageId, caller: Caller,
                         svc: Svc) -> Json:
    """Delete for everyone: your own messages, or any as a group or channel admin."""
    return await svc.messages.do_delete(caller.user_id, chat_id, message_id)


@api_router.post("/chats/{chat_id}/messages/{message_id}/callback", tags=["messages"])
async def press_button(chat_id: ChatId, message_id: MessageId, body: CallbackBody,
                       caller: Caller, svc: Svc) -> Json:
    """Press a bot message's callback button; the bot's answer comes as `bot.answer`."""
    callback_id = await svc.bots.do_press(caller.user_id, chat_id, message_id, body.payload)
    return {"callback_id": callback_id}


@api_router.post("/chats/{chat_id}/read", tags=["messages"])
async def mark_read(chat_id: ChatId, body: ReadBody, caller: Caller, svc: Svc) -> Json:
    """Move your read marker forward to `seq` (never back); the chat sees `chat.read`."""
    return await svc.messages.do_mark_read(caller.user_id, chat_id, body.seq)


@api_router.post("/chats/{chat_id}/delivered", tags=["messages"])
async def mark_delivered(chat_id: ChatId, body: DeliveredBody, caller: Caller,
                         svc: Svc) -> Json:
    """Move your delivered marker forward to `seq` (never back); the chat sees
    `chat.delivered`. Send it when your device has received messages, seen or not."""
    return await svc.messages.do_mark_delivered(caller.user_id, chat_id, body.seq)


@api_router.post("/chats/{chat_id}/typing", status_code=204, tags=["messages"])
async def typing(chat_id: ChatId, caller: Caller, svc: Svc) -> Response:
    """Tell the chat's connected members you are typing. Never stored."""
    await svc.messages.do_typing(caller.user_id, chat_id)
    return Response(status_code=204)


# -- sync ---------------------------------------------------------------------------------

@api_router.get("/sync", tags=["sync"])
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
    page = await svc.sync.wait_page(user_id, after, wait_s=timeout)
    return {"events": page.events, "cursor": encode_cursor(page.last_pos), "more": page.more}
