"""The social calls of the SDK: contacts, privacy and blocks, presence, @handles, public
chats, invite links, admin rights, pins, reactions and post views.

`SocialApi` is a mixin: `HttpApi` (and so `Client`) inherits it and supplies `call`.
Every call raises `ApiError` with the server's status and code when it says no.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from darbuka.client.models import Chat, User
from darbuka.client.social_models import (
    BlockedUser,
    ContactImport,
    Invite,
    Presence,
    Privacy,
    PublicChat,
    PublicPreview,
    ReactionCount,
    Reactions,
    ViewReport,
)

__all__ = ["SocialApi"]

_UNSET: Any = object()


class SocialApi:
    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError  # supplied by HttpApi

    # -- contacts -------------------------------------------------------------------------

    async def import_contacts(self, phones: Iterable[str]) -> ContactImport:
        """Which of these numbers (any spelling; the server normalises them, reading a
        number without a country code as one of your country) are on Darbuka and let you
        find them. Past the quota the answer counts what was held back in `limited`; when
        nothing could be checked it is `ApiError` 429 with `retry_after` in seconds."""
        result = await self.call("POST", "/contacts/import", json={"phones": list(phones)})
        return ContactImport.from_json(result)

    # -- privacy, blocks, presence --------------------------------------------------------

    async def privacy(self) -> Privacy:
        return Privacy.from_json(await self.call("GET", "/me/privacy"))

    async def set_privacy(self, *, find_by_phone: str | None = None,
                          last_seen: str | None = None,
                          group_add: str | None = None) -> Privacy:
        """Change any of the settings (`everyone`, `contacts`, `nobody`); answers them all.
        Your other devices get `privacy.updated`."""
        body = {k: v for k, v in (("find_by_phone", find_by_phone), ("last_seen", last_seen),
                                  ("group_add", group_add)) if v is not None}
        return Privacy.from_json(await self.call("PATCH", "/me/privacy", json=body))

    async def block(self, user_id: int) -> None:
        """No direct messages, group adds, finding you by number or presence from them.
        They are not told; your devices get `user.blocked`."""
        await self.call("PUT", f"/me/blocked/{user_id}")

    async def unblock(self, user_id: int) -> None:
        await self.call("DELETE", f"/me/blocked/{user_id}")

    async def blocked(self) -> list[BlockedUser]:
        return [BlockedUser.from_json(b) for b in (await self.call("GET", "/me/blocked"))[
            "blocked"]]

    async def presence(self, user_id: int) -> Presence:
        return Presence.from_json(await self.call("GET", f"/users/{user_id}/presence"))

    # -- profile and @handles -------------------------------------------------------------

    async def set_profile(self, *, display_name: str | None = None,
                          username: str | None = None, about: str | None = None,
                          kind: str | None = None) -> User:
        """Change any of display name, @username (unique, case-insensitive; shared with
        chats' @handles), about, kind (`person`, `blogger`, `brand`)."""
        body = {k: v for k, v in (("display_name", display_name), ("username", username),
                                  ("about", about), ("kind", kind)) if v is not None}
        return User.from_json(await self.call("PATCH", "/me", json=body))

    async def user_by_username(self, name: str) -> User:
        """The user holding exactly this @username (`@` and capitals are fine; no prefix
        search). `ApiError` 404 `user_not_found` when nobody holds it or its holder blocked
        you, 400 `invalid_username` for a name no one could hold, 429 past the hourly
        limit."""
        return User.from_json(await self.call("GET",
                                              f"/users/by-username/{quote(name, safe='')}"))

    async def update_chat(self, chat_id: int, *, title: str | None = None,
                          description: str | None = None, handle: str | None = _UNSET,
                          sign_posts: bool | None = None) -> Chat:
        """Change a group's or channel's info (admins with `change_info`). `handle` makes
        it public under @handle; `handle=None` makes it private again."""
        body: dict[str, Any] = {k: v for k, v in (("title", title),
                                                  ("description", description),
                                                  ("sign_posts", sign_posts)) if v is not None}
        if handle is not _UNSET:
            body["handle"] = handle
        return Chat.from_json(await self.call("PATCH", f"/chats/{chat_id}", json=body))

    async def set_chat_handle(self, chat_id: int, handle: str | None) -> Chat:
        """Make a group or channel public as @handle (None: private again, the name freed)."""
        return await self.update_chat(chat_id, handle=handle)

    async def clear_chat_handle(self, chat_id: int) -> Chat:
        return await self.update_chat(chat_id, handle=None)

    async def set_sign_posts(self, chat_id: int, sign: bool) -> Chat:
        """Channels: sign posts with the admin who wrote them (else they are the channel's)."""
        return await self.update_chat(chat_id, sign_posts=sign)

    # -- public chats ---------------------------------------------------------------------

    async def search_public(self, query: str, *, limit: int = 20) -> list[PublicChat]:
        """Public groups and channels by title or @handle prefix, biggest first."""
        result = await self.call("GET", "/public/search", params={"q": query, "limit": limit})
        return [PublicChat.from_json(c) for c in result["chats"]]

    async def public_chat(self, handle: str) -> PublicPreview:
        """A public chat by @handle with a channel's last 50 posts; needs no sign-in."""
        path = f"/public/chats/{quote(handle.removeprefix('@'), safe='')}"
        return PublicPreview.from_json(await self.call("GET", path))

    async def join(self, chat_id: int) -> Chat:
        """Join a public group or subscribe to a public channel."""
        return Chat.from_json(await self.call("POST", f"/chats/{chat_id}/join"))

    async def leave(self, chat_id: int) -> None:
        await self.call("POST", f"/chats/{chat_id}/leave")

    # -- invite links ---------------------------------------------------------------------

    async def create_invite(self, chat_id: int, *, expires_in_s: int | None = None,
                            max_uses: int | None = None) -> Invite:
        """A new invite link (admins with `add_members`); its `token` is shown only now."""
        body = {"expires_in_s": expires_in_s, "max_uses": max_uses}
        return Invite.from_json(await self.call("POST", f"/chats/{chat_id}/invites",
                                                json=body))

    async def invites(self, chat_id: int) -> list[Invite]:
        """The chat's invite links, without tokens (admins)."""
        result = await self.call("GET", f"/chats/{chat_id}/invites")
        return [Invite.from_json(i) for i in result["invites"]]

    async def revoke_invite(self, chat_id: int, invite_id: int) -> None:
        await self.call("DELETE", f"/chats/{chat_id}/invites/{invite_id}")

    async def invite_preview(self, token: str) -> PublicChat:
        """Where a link leads. Unknown, revoked, expired and used-up links are one 404."""
        result = await self.call("GET", f"/invites/{quote(token, safe='')}")
        return PublicChat.from_json(result["chat"])

    async def join_by_invite(self, token: str) -> Chat:
        return Chat.from_json(await self.call("POST", f"/invites/{quote(token, safe='')}/join"))

    # -- members, rights, pins ------------------------------------------------------------

    async def set_role(self, chat_id: int, user_id: int, role: str) -> None:
        """Make a member `admin`, or back to `member` / `subscriber` (the owner only)."""
        await self.call("PATCH", f"/chats/{chat_id}/members/{user_id}", json={"role": role})

    async def set_rights(self, chat_id: int, user_id: int, rights: Iterable[str]) -> list[str]:
        """An admin's rights, any of read_all, add_members, remove_members, add_admins,
        change_info, pin, write (owner, or admins with add_admins). Answers them as set."""
        result = await self.call("PUT", f"/chats/{chat_id}/members/{user_id}/rights",
                                 json={"rights": list(rights)})
        return list(result["rights"])

    async def pin(self, chat_id: int, message_id: int) -> Chat:
        """Pin a message (admins with `pin`, or either side of a direct chat)."""
        return Chat.from_json(await self.call("PUT", f"/chats/{chat_id}/pin",
                                              json={"message_id": message_id}))

    async def unpin(self, chat_id: int) -> Chat:
        return Chat.from_json(await self.call("DELETE", f"/chats/{chat_id}/pin"))

    # -- reactions and views --------------------------------------------------------------

    async def react(self, chat_id: int, message_id: int, emoji: str) -> list[ReactionCount]:
        """React with one emoji (at most 3 per message); answers the message's reactions.
        The chat's members get `reaction.added`."""
        result = await self.call("PUT", f"/chats/{chat_id}/messages/{message_id}/reactions",
                                 json={"emoji": emoji})
        return [ReactionCount.from_json(r) for r in result["reactions"]]

    async def unreact(self, chat_id: int, message_id: int, emoji: str) -> list[ReactionCount]:
        """Take a reaction back; the chat's members get `reaction.removed`."""
        result = await self.call("DELETE", f"/chats/{chat_id}/messages/{message_id}/reactions",
                                 params={"emoji": emoji})
        return [ReactionCount.from_json(r) for r in result["reactions"]]

    async def reactions(self, chat_id: int, message_ids: Iterable[int]) -> dict[int, Reactions]:
        """Reactions and view counts of up to 100 messages of one chat, by message id."""
        ids = ",".join(str(i) for i in message_ids)
        result = await self.call("GET", f"/chats/{chat_id}/reactions", params={"ids": ids})
        found = [Reactions.from_json(m) for m in result["messages"]]
        return {r.message_id: r for r in found}

    async def report_views(self, chat_id: int, message_ids: Iterable[int]) -> ViewReport:
        """Tell the server these channel posts were shown (up to 200; each user counts
        once per post)."""
        result = await self.call("POST", f"/chats/{chat_id}/views",
                                 json={"message_ids": list(message_ids)})
        return ViewReport.from_json(result)
