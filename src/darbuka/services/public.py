"""Public groups and channels: @handles, the preview anyone can read, search, invite links.

Invite links are 128-bit random tokens stored only as SHA-256. Every failure to use one —
unknown, revoked, expired, used up — is the same 404, and lookups are rate-limited per
account, so probing links tells an outsider nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import orjson

from darbuka.clock import Clock
from darbuka.errors import BadRequest, Forbidden, NotFound
from darbuka.services.access import (
    access_chat,
    check_admin,
    check_joinable,
    is_public_chat,
    message_for,
)
from darbuka.services.adminlog import do_log
from darbuka.services.handles import normalise
from darbuka.services.media import MediaService
from darbuka.services.members import MemberService
from darbuka.services.polls import is_closed
from darbuka.services.ratelimit import RateLimiter, WriteLimits
from darbuka.services.rights import check_right
from darbuka.services.views import message_view
from darbuka.services.writer import Tx, Writer
from darbuka.settings import Settings
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import ChatRow, MediaRow, MessageRow, PublicChatRow

__all__ = ["PUBLIC_POSTS", "THUMB_VARIANT", "PublicService", "public_chat_view"]

PUBLIC_POSTS = 50
# The variant the public page shows for a post's media: a photo's small WebP thumbnail, a
# video's poster frame (WebP). Other kinds show no picture.
THUMB_VARIANT = {"photo": "thumb", "video": "poster"}
INVITE_PREFIX = "inv_"


def public_chat_view(row: ChatRow) -> dict[str, Any]:
    """What anyone may know of a public chat: no owner id, no member list."""
    view: dict[str, Any] = {"id": row["id"], "kind": row["kind"], "title": row["title"],
                            "description": row["description"],
                            "member_count": row["member_count"]}
    if row.get("handle"):
        view["handle"] = row["handle"]
    if row.get("owner_verified"):
        view["verified"] = True
    return view


def _thumb_variant(row: MediaRow) -> dict[str, Any] | None:
    """The small picture of ready media of a kind the public page shows, if it has one."""
    name = THUMB_VARIANT.get(row["kind"])
    if name is None or row["state"] != "ready":
        return None
    return MediaService.variant(row, name)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class PublicService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, members: MemberService,
                 limits: RateLimiter, settings: Settings, clock: Clock,
                 *, writes: WriteLimits) -> None:
        self._writes = writes
        self._clock = clock
        self._db = db
        self._stores = stores
        self._writer = writer
        self._members = members
        self._limits = limits
        self._settings = settings

    async def preview(self, raw_handle: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A public chat by handle, and for a channel its last 50 posts (no sign-in)."""
        chat, posts, _ = await self.page(raw_handle, with_thumbs=False)
        return chat, posts

    async def page(self, raw_handle: str, *, with_thumbs: bool = True) -> tuple[
            dict[str, Any], list[dict[str, Any]], set[str]]:
        """`preview`, and the ids of the posts' media whose thumbnail may be shown now
        (ready: not held, not removed) — what `public_thumb` serves."""
        async with self._db.read() as conn:
            chat = await self._chat_by_handle(conn, raw_handle)
            posts = (await self._stores.public.recent_posts(conn, chat["id"], PUBLIC_POSTS)
                     if chat["kind"] == "channel" else [])
            wanted = [str(orjson.loads(attached)["id"]) for p in posts
                      if with_thumbs and (attached := p["media"]) and p["kind"] in THUMB_VARIANT]
            found = await self._stores.media.by_ids(conn, wanted) if wanted else {}
            views = self._post_views(chat, posts)
            await self._add_poll_results(conn, views)
        thumbs = {m for m, row in found.items() if _thumb_variant(row) is not None}
        return public_chat_view(chat), views, thumbs

    async def _add_poll_results(self, conn: Conn, views: list[dict[str, Any]]) -> None:
        """A channel's polls are anonymous: anyone may see their counts (never who voted,
        nor a quiz's answer)."""
        ids = [v["id"] for v in views if "poll" in v]
        counts = await self._stores.polls.counts(conn, ids)
        voters = await self._stores.polls.voter_counts(conn, ids)
        now = self._clock.now_ms()
        for view in views:
            if (poll := view.get("poll")) is not None:
                tally = counts.get(view["id"], {})
                view["poll_results"] = {
                    "counts": [tally.get(i, 0) for i in range(len(poll["options"]))],
                    "voters": voters.get(view["id"], 0), "closed": is_closed(poll, now)}

    async def _chat_by_handle(self, conn: Conn, raw_handle: str) -> PublicChatRow:
        chat = await self._stores.public.chat_by_handle(conn, normalise(raw_handle)[:64])
        if chat is None or not is_public_chat(chat):
            raise NotFound("no public chat has that handle", code="chat_not_found")
        return chat

    async def public_thumb(self, raw_handle: str, media_id: str) -> dict[str, Any]:
        """The thumbnail of media on one of a public channel's last 50 posts, for anyone:
        the stored variant (`key`, `size`, `mime`). Media of any
        other chat, held or removed media, and media of posts no longer shown are all the
        same 404."""
        async with self._db.read() as conn:
            chat = await self._chat_by_handle(conn, raw_handle)
            row = await self._stores.media.get(conn, media_id)
            variant = _thumb_variant(row) if row is not None else None
            if chat["kind"] != "channel" or row is None or variant is None:
                raise NotFound("no such media", code="media_not_found")
            refs = {r["message_id"] for r in await self._stores.media.refs_of(conn, media_id)
                    if r["chat_id"] == chat["id"]}
            shown = (await self._stores.public.recent_post_ids(conn, chat["id"], PUBLIC_POSTS)
                     if refs else set())
        if not refs & shown:
            raise NotFound("no such media", code="media_not_found")
        return variant

    @staticmethod
    def _post_views(chat: ChatRow, posts: list[MessageRow]) -> list[dict[str, Any]]:
        views = [message_for(message_view(p), None) for p in posts]
        for view in views:
            if not chat["sign_posts"]:
                view["sender_id"] = None  # posted on behalf of the channel
        return views

    async def search(self, text: str, limit: int) -> list[dict[str, Any]]:
        text = text.strip().removeprefix("@")
        if not text:
            raise BadRequest("q is empty", code="invalid_query")
        key = normalise(text)
        async with self._db.read() as conn:
            rows = await self._stores.public.search(conn, text, key if key.isascii() else None,
                                                    limit)
        return [public_chat_view(r) for r in rows if is_public_chat(r)]

    # -- invite links ---------------------------------------------------------------------

    async def do_create_invite(self, user_id: int, chat_id: int,
                               body: dict[str, Any]) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        expires_in = body.get("expires_in_s")
        max_uses = body.get("max_uses")
        token = INVITE_PREFIX + secrets.token_urlsafe(16)

        async def create(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            if access.chat["kind"] == "direct":
                raise Forbidden("direct chats have no invite links", code="direct_chat")
            check_admin(access)
            await check_right(tx.conn, tx.stores, access, "add_members", user_id)
            expires_at = tx.now + expires_in * 1000 if expires_in else None
            invite_id = await tx.stores.invites.create(
                tx.conn, chat_id=chat_id, token_hash=_hash(token), created_by=user_id,
                now=tx.now, expires_at=expires_at, max_uses=max_uses)
            await do_log(tx, chat_id, user_id, "invite.created", target_id=invite_id)
            return {"id": invite_id, "chat_id": chat_id, "token": token,
                    "expires_at": expires_at, "max_uses": max_uses, "uses": 0,
                    "revoked": False, "created_by": user_id, "created_at": tx.now}

        return await self._writer.run(create)

    async def invites(self, user_id: int, chat_id: int) -> list[dict[str, Any]]:
        """The chat's links, for those who may make them (admins with `add_members`)."""
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            check_admin(access)
            await check_right(conn, self._stores, access, "add_members", user_id)
            rows = await self._stores.invites.for_chat(conn, chat_id)
        keep = ("id", "chat_id", "created_by", "created_at", "expires_at", "max_uses", "uses",
                "revoked")
        return [{k: r[k] for k in keep} for r in rows]

    async def do_revoke_invite(self, user_id: int, chat_id: int, invite_id: int) -> None:
        await self._writes.check("other", user_id)
        async def revoke(tx: Tx) -> None:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            check_admin(access)
            await check_right(tx.conn, tx.stores, access, "add_members", user_id)
            if not await tx.stores.invites.revoke(tx.conn, chat_id, invite_id):
                raise NotFound("no such invite link", code="invite_not_found")
            await do_log(tx, chat_id, user_id, "invite.revoked", target_id=invite_id)

        await self._writer.run(revoke)

    async def _check_probe(self, user_id: int, token: str) -> bytes:
        await self._limits.check_hit(f"invite:{user_id}",
                                     limit=self._settings.invite_probes_per_hour, window_s=3600)
        if not token.startswith(INVITE_PREFIX) or len(token) > 64:
            raise NotFound("no such invite link", code="invite_not_found")
        return _hash(token)

    @staticmethod
    def _usable(invite: dict[str, Any] | None, now: int) -> dict[str, Any]:
        if (invite is None or invite["revoked"]
                or (invite["expires_at"] is not None and invite["expires_at"] <= now)
                or (invite["max_uses"] is not None and invite["uses"] >= invite["max_uses"])):
            raise NotFound("no such invite link", code="invite_not_found")
        return invite

    @staticmethod
    def _check_invited(chat: ChatRow | None) -> None:
        """An invite to a chat that takes no members (closed by moderation, or gone) is the
        same 404 as a wrong token."""
        try:
            check_joinable(chat, invited=True)
        except NotFound:
            raise NotFound("no such invite link", code="invite_not_found") from None

    async def invite_preview(self, user_id: int, token: str) -> dict[str, Any]:
        token_hash = await self._check_probe(user_id, token)
        async with self._db.read() as conn:
            invite = self._usable(await self._stores.invites.by_hash(conn, token_hash),
                                  self._clock.now_ms())
            chat = await self._stores.chats.get(conn, invite["chat_id"])
        self._check_invited(chat)
        assert chat is not None  # noqa: S101 - checked just above
        return {"chat": public_chat_view(chat)}

    async def do_join_by_invite(self, user_id: int, token: str) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        token_hash = await self._check_probe(user_id, token)

        async def join(tx: Tx) -> dict[str, Any]:
            invite = self._usable(await tx.stores.invites.by_hash(tx.conn, token_hash), tx.now)
            chat = await tx.stores.chats.get(tx.conn, invite["chat_id"])
            self._check_invited(chat)
            assert chat is not None  # noqa: S101 - checked just above
            if await tx.stores.chats.member(tx.conn, chat["id"], user_id) is None:
                await tx.stores.invites.count_use(tx.conn, invite["id"])
            return await self._members.admit(tx, chat, user_id)

        return await self._writer.run(join)
