"""Routes of contacts, privacy, blocks, presence, public chats, invite links, admin rights,
reactions and post views (all under /api/v1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from darbuka.api.deps import Caller, ChatId, MessageId, Svc, UserId, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body, Id

__all__ = ["social_router"]

social_router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]
Audience = Literal["everyone", "contacts", "nobody"]
# Longer than any token we make; what is past it is refused before a lookup.
Token = Annotated[str, Path(max_length=64, description="invite token")]
InviteId = Annotated[int, Path(gt=0, lt=2**63, description="invite id")]


class ImportBody(Body):
    # An address book is at most a few thousand numbers; 10,000 leaves room.
    phones: list[Any] = Field(max_length=10_000)


class PrivacyBody(Body):
    find_by_phone: Audience | None = None
    last_seen: Audience | None = None
    group_add: Audience | None = None


class InviteBody(Body):
    expires_in_s: int | None = Field(None, ge=60, le=366 * 24 * 3600)
    max_uses: int | None = Field(None, ge=1, le=100_000)


class RightsBody(Body):
    rights: list[str] = Field(max_length=7)


class ReactionBody(Body):
    emoji: str = Field(min_length=1, max_length=16)


class ViewsBody(Body):
    message_ids: list[Id] = Field(min_length=1, max_length=200)


# -- contacts -----------------------------------------------------------------------------

@social_router.post("/contacts/import", tags=["contacts"])
async def import_contacts(body: ImportBody, caller: Caller, svc: Svc) -> Json:
    """Which of these numbers are on Darbuka (and let you find them by number).

    Numbers without a country code are read as in your own country. Answers
    `{"users": [{"user", "phone"}], "malformed", "duplicates", "limited"}`; `limited`
    counts new numbers held back by the daily or lifetime quota (429 when none could be
    checked). Uploaded numbers are kept as keyed hashes to tell you when they join.
    """
    return await svc.contacts.do_import(caller.user, body.phones)


# -- privacy, blocks, presence ------------------------------------------------------------

@social_router.get("/me/privacy", tags=["privacy"])
async def get_privacy(caller: Caller, svc: Svc) -> Json:
    """Your privacy settings: each of find_by_phone, last_seen, group_add is
    everyone, contacts (people in your uploaded address book) or nobody."""
    return await svc.privacy.get(caller.user_id)


@social_router.patch("/me/privacy", tags=["privacy"])
async def patch_privacy(body: PrivacyBody, caller: Caller, svc: Svc) -> Json:
    """Change any of your privacy settings; your other devices get `privacy.updated`."""
    return await svc.privacy.do_update(caller.user_id, dump(body))


@social_router.get("/me/blocked", tags=["privacy"])
async def list_blocked(caller: Caller, svc: Svc) -> Json:
    """The users you blocked."""
    return {"blocked": await svc.privacy.blocked(caller.user_id)}


@social_router.put("/me/blocked/{user_id}", status_code=204, tags=["privacy"])
async def block_user(user_id: UserId, caller: Caller, svc: Svc) -> Response:
    """Block a user: no direct messages, no adding you to groups, no finding you by
    number, no seeing your presence. They are not told."""
    await svc.privacy.do_block(caller.user_id, user_id, block=True)
    return Response(status_code=204)


@social_router.delete("/me/blocked/{user_id}", status_code=204, tags=["privacy"])
async def unblock_user(user_id: UserId, caller: Caller, svc: Svc) -> Response:
    """Unblock a user."""
    await svc.privacy.do_block(caller.user_id, user_id, block=False)
    return Response(status_code=204)


@social_router.get("/users/{user_id}/presence", tags=["privacy"])
async def presence(user_id: UserId, caller: Caller, svc: Svc) -> Json:
    """`status`: online, offline (with `last_seen_at`), or hidden by their settings."""
    return await svc.privacy.presence(caller.user, user_id)


# -- public chats -------------------------------------------------------------------------

@social_router.get("/public/search", tags=["public"])
async def search_public(caller: Caller, svc: Svc,
                        q: Annotated[str, Query(min_length=1, max_length=64)],
                        limit: Annotated[int, Query(ge=1, le=50)] = 20) -> Json:
    """Public groups and channels whose title contains `q` or whose @handle starts with it,
    biggest first."""
    return {"chats": await svc.public.search(q, limit)}


@social_router.get("/public/chats/{handle}", tags=["public"])
async def public_chat(handle: Annotated[str, Path(max_length=64)], svc: Svc) -> Json:
    """A public group or channel by @handle, with a channel's last 50 posts. No sign-in."""
    chat, posts = await svc.public.preview(handle)
    return {"chat": chat, "posts": posts}


# -- invite links -------------------------------------------------------------------------

@social_router.post("/chats/{chat_id}/invites", status_code=201, tags=["public"])
async def create_invite(chat_id: ChatId, body: InviteBody, caller: Caller, svc: Svc) -> Json:
    """Make an invite link (admins with add_members); the `token` is shown only now."""
    return await svc.public.do_create_invite(caller.user_id, chat_id, dump(body))


@social_router.get("/chats/{chat_id}/invites", tags=["public"])
async def list_invites(chat_id: ChatId, caller: Caller, svc: Svc) -> Json:
    """The chat's invite links, without their tokens (admins)."""
    return {"invites": await svc.public.invites(caller.user_id, chat_id)}


@social_router.delete("/chats/{chat_id}/invites/{invite_id}", status_code=204,
                      tags=["public"])
async def revoke_invite(chat_id: ChatId, invite_id: InviteId, caller: Caller,
                        svc: Svc) -> Response:
    """Revoke an invite link: it stops working at once (admins)."""
    await svc.public.do_revoke_invite(caller.user_id, chat_id, invite_id)
    return Response(status_code=204)


@social_router.get("/invites/{token}", tags=["public"])
async def invite_preview(token: Token, caller: Caller, svc: Svc) -> Json:
    """What an invite link leads to. Unknown, revoked, expired and used-up links are the
    same 404; lookups are rate-limited."""
    return await svc.public.invite_preview(caller.user_id, token)


@social_router.post("/invites/{token}/join", tags=["public"])
async def join_by_invite(token: Token, caller: Caller, svc: Svc) -> Json:
    """Join the group or channel of an invite link; answers the chat."""
    return await svc.public.do_join_by_invite(caller.user_id, token)


# -- channel admin rights, reactions, views -----------------------------------------------

@social_router.put("/chats/{chat_id}/members/{user_id}/rights", tags=["chats"])
async def set_rights(chat_id: ChatId, user_id: UserId, body: RightsBody, caller: Caller,
                     svc: Svc) -> Json:
    """Set an admin's rights: any of read_all, add_members, remove_members, add_admins,
    change_info, pin, write (owner, or admins with add_admins)."""
    rights = await svc.members.do_set_rights(caller.user_id, chat_id, user_id, body.rights)
    return {"user_id": user_id, "rights": rights}


@social_router.put("/chats/{chat_id}/messages/{message_id}/reactions", tags=["messages"])
async def add_reaction(chat_id: ChatId, message_id: MessageId, body: ReactionBody,
                       caller: Caller, svc: Svc) -> Json:
    """React with an emoji (at most 3 per message each); the chat gets `reaction.added`."""
    return await svc.reactions.do_react(caller.user_id, chat_id, message_id, body.emoji,
                                        add=True)


@social_router.delete("/chats/{chat_id}/messages/{message_id}/reactions", tags=["messages"])
async def remove_reaction(chat_id: ChatId, message_id: MessageId, caller: Caller, svc: Svc,
                          emoji: Annotated[str | None, Query(max_length=16)] = None) -> Json:
    """Take your reaction back; the chat gets `reaction.removed`."""
    return await svc.reactions.do_react(caller.user_id, chat_id, message_id, emoji, add=False)


@social_router.get("/chats/{chat_id}/reactions", tags=["messages"])
async def reactions(chat_id: ChatId, caller: Caller, svc: Svc,
                    ids: Annotated[str, Query(max_length=2000,
                                              description="message ids, comma-separated")]
                    = "") -> Json:
    """Reactions (emoji, count, mine) and view counts of up to 100 messages."""
    parsed = [int(i) for i in ids.split(",") if i.strip().isdigit() and len(i.strip()) < 19]
    return await svc.reactions.summary(caller.user_id, chat_id, parsed[:100])


@social_router.post("/chats/{chat_id}/views", tags=["messages"])
async def record_views(chat_id: ChatId, body: ViewsBody, caller: Caller, svc: Svc) -> Json:
    """Report the channel posts you showed (a screenful at a time); each user counts once
    per post. Answers the posts' view counts."""
    return await svc.reactions.do_view(caller.user_id, chat_id, body.message_ids)
