"""The request/response half of the SDK: every call over HTTP (the live half is `client.py`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from darbuka.backoff import Backoff
from darbuka.client.chat_admins import AdminLogEntry, Ban, JoinRequest
from darbuka.client.models import (
    BlockedUser,
    Chat,
    ContactImport,
    Draft,
    Invite,
    Message,
    Mute,
    Presence,
    Privacy,
    PublicChat,
    PublicPreview,
    ReactionCount,
    Reactions,
    ScheduledMessage,
    SearchResults,
    User,
    ViewReport,
)
from darbuka.client.polls import PollResults

__all__ = ["ApiError", "HttpApi"]

_UNSET: Any = object()
# Worth another try with the same client id: the server may not have stored the send.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """The server said no: `status`, and `code`/`message` from its error body.

    `retry_after` is the server's `Retry-After` in seconds (on 429 and 503), else None."""

    def __init__(self, status: int, code: str, message: str, *,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUS


def _seconds(header: str | None) -> float | None:
    """Retry-After as seconds; the HTTP-date form (which the server never sends) is None."""
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


def _joined(data: dict[str, Any]) -> Chat | JoinRequest:
    request = data.get("join_request")
    return JoinRequest.from_json(request) if request else Chat.from_json(data)


class HttpApi:
    """Every request/response call of the API: sign-in and profile, chats and messages, and
    contacts, privacy and blocks, presence, @handles, public chats, invite links, admin
    rights, pins, reactions and post views. Each raises `ApiError` with the server's status
    and code when it says no."""

    def __init__(self, server: str, token: str | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.server = server.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.server + "/api/v1", timeout=30,
                                       transport=transport)
        self.token: str | None = None
        if token:
            self.use_token(token)

    def use_token(self, token: str) -> None:
        self.token = token
        self._http.headers["authorization"] = f"Bearer {token}"

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One signed-in request under /api/v1; an `ApiError` unless it succeeded."""
        response = await self._http.request(method, path, **kwargs)
        if response.is_success:
            return response
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", response.text[:200]
        raise ApiError(response.status_code, code, message,
                       retry_after=_seconds(response.headers.get("retry-after")))

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- sign-in and profile --------------------------------------------------------------

    async def request_code(self, phone: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("POST", "/auth/request-code",
                                                 json={"phone": phone})
        return result

    async def sign_in(self, phone: str, code: str, *, device_name: str = "sdk") -> User:
        """Trade the code for a token; the client uses it from now on (see `token`)."""
        result = await self.call("POST", "/auth/sign-in", json={
            "phone": phone, "code": code, "device_name": device_name})
        self.use_token(result["token"])
        return User.from_json(result["user"])

    async def me(self) -> User:
        return User.from_json(await self.call("GET", "/me"))

    async def user(self, user_id: int) -> User:
        return User.from_json(await self.call("GET", f"/users/{user_id}"))

    # -- chats ----------------------------------------------------------------------------

    async def chats(self) -> list[Chat]:
        return [Chat.from_json(c) for c in (await self.call("GET", "/chats"))["chats"]]

    async def chat(self, chat_id: int) -> Chat:
        return Chat.from_json(await self.call("GET", f"/chats/{chat_id}"))

    async def create_group(self, title: str, member_ids: list[int] | None = None, *,
                           kind: str = "group", public: bool = False) -> Chat:
        body = {"kind": kind, "title": title, "member_ids": member_ids or [], "public": public}
        return Chat.from_json(await self.call("POST", "/chats", json=body))

    async def direct(self, user_id: int) -> Chat:
        return Chat.from_json(await self.call("POST", "/chats", json={"kind": "direct",
                                                                       "user_id": user_id}))

    async def add_members(self, chat_id: int, user_ids: list[int]) -> list[int]:
        result = await self.call("POST", f"/chats/{chat_id}/members", json={"user_ids": user_ids})
        return list(result["added"])

    # -- messages -------------------------------------------------------------------------

    async def history(self, chat_id: int, *, before: int | None = None,
                      after: int | None = None, limit: int = 50) -> list[Message]:
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        if after is not None:
            params["after"] = after
        result = await self.call("GET", f"/chats/{chat_id}/messages", params=params)
        return [Message.from_json(m) for m in result["messages"]]

    async def send_now(self, chat_id: int, text: str, *, client_id: str | None = None,
                       attempts: int = 6, media_id: str | None = None,
                       kind: str | None = None) -> Message:
        """Send over HTTP and wait for the stored message, retrying transient failures
        (and `media_not_ready`) with the same client id, so a retry never doubles.
        `media_id` (from `upload`) makes it a media message; `text` is then its caption.
        Survives no restart: for that, use `Client.send` / `Client.send_file`."""
        body: dict[str, Any] = {"client_id": client_id or str(uuid.uuid4()), "text": text}
        if media_id is not None:
            body |= {"media_id": media_id, "kind": kind}
        backoff = Backoff(base=0.2, cap=5.0)
        for attempt in range(attempts):
            try:
                return Message.from_json(await self.call("POST", f"/chats/{chat_id}/messages",
                                                         json=body))
            except ApiError as err:
                retry = err.transient or err.code == "media_not_ready"
                if not retry or attempt == attempts - 1:
                    raise
            except httpx.TransportError:
                if attempt == attempts - 1:
                    raise
            await asyncio.sleep(backoff.next_delay())
        raise AssertionError("unreachable")

    # -- polls ----------------------------------------------------------------------------

    async def send_poll(self, chat_id: int, question: str, options: Sequence[str], *,
                        multiple: bool = False, anonymous: bool = True,
                        correct_option: int | None = None, explanation: str | None = None,
                        close_at: int | None = None, client_id: str | None = None,
                        attempts: int = 6) -> Message:
        """Post a poll (2 to 10 options; `correct_option` makes it a quiz; `close_at` in ms
        closes it by itself). Retried with the same client id, so it is posted once."""
        poll: dict[str, Any] = {"options": list(options), "multiple": multiple,
                                "anonymous": anonymous}
        if correct_option is not None:
            poll |= {"quiz": True, "correct_option": correct_option}
            if explanation is not None:
                poll["explanation"] = explanation
        if close_at is not None:
            poll["close_at"] = close_at
        body = {"client_id": client_id or str(uuid.uuid4()), "text": question, "poll": poll}
        result = await self._retried("POST", f"/chats/{chat_id}/messages", body, attempts)
        return Message.from_json(result)

    async def vote(self, chat_id: int, message_id: int, options: Sequence[int], *,
                   client_id: str | None = None, attempts: int = 6) -> PollResults:
        """Vote: the chosen options' indexes (none takes the vote back; a quiz is answered
        once). Retried with the same client id, so the vote counts once; give your own
        `client_id` to make a vote safe to send again after a restart."""
        body = {"client_id": client_id or str(uuid.uuid4()), "options": list(options)}
        result = await self._retried("POST", f"/chats/{chat_id}/messages/{message_id}/votes",
                                     body, attempts)
        return PollResults.from_json(result)

    async def poll_results(self, chat_id: int, message_id: int) -> PollResults:
        result = await self.call("GET", f"/chats/{chat_id}/messages/{message_id}/poll")
        return PollResults.from_json(result)

    async def close_poll(self, chat_id: int, message_id: int) -> PollResults:
        """Close a poll now (its author, or the chat's owner and admins)."""
        result = await self.call("POST", f"/chats/{chat_id}/messages/{message_id}/poll/close")
        return PollResults.from_json(result)

    async def _retried(self, method: str, path: str, body: dict[str, Any],
                       attempts: int) -> Any:
        """A call that is safe to repeat (it carries a client id), retried while the
        failure is transient."""
        backoff = Backoff(base=0.2, cap=5.0)
        for attempt in range(attempts):
            try:
                return await self.call(method, path, json=body)
            except ApiError as err:
                if not err.transient or attempt == attempts - 1:
                    raise
            except httpx.TransportError:
                if attempt == attempts - 1:
                    raise
            await asyncio.sleep(backoff.next_delay())
        raise AssertionError("unreachable")

    async def edit(self, chat_id: int, message_id: int, text: str, *,
                   markup: Sequence[Mapping[str, Any]] | None = None) -> Message:
        """Change a message's text; `markup` (UTF-16 offsets) replaces the old markup."""
        body: dict[str, Any] = {"text": text}
        if markup:
            body["markup"] = list(markup)
        return Message.from_json(await self.call(
            "PATCH", f"/chats/{chat_id}/messages/{message_id}", json=body))

    async def delete(self, chat_id: int, message_id: int) -> Message:
        return Message.from_json(await self.call(
            "DELETE", f"/chats/{chat_id}/messages/{message_id}"))

    async def mark_read(self, chat_id: int, seq: int) -> None:
        await self.call("POST", f"/chats/{chat_id}/read", json={"seq": seq})

    async def mark_delivered(self, chat_id: int, seq: int) -> int:
        """Tell the chat this device has everything up to `seq` (the sender's ✓✓). Marks
        move forward only; returns the mark the server holds."""
        answer = await self.call("POST", f"/chats/{chat_id}/delivered", json={"seq": seq})
        return int(answer["seq"])

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
                          sign_posts: bool | None = None, slow_mode_s: int | None = None,
                          join_approval: bool | None = None) -> Chat:
        """Change a group's or channel's info (admins with `change_info`). `handle` makes
        it public under @handle; `handle=None` makes it private again. `slow_mode_s` (0 to
        3600, 0 off) holds members who are not admins to one message per that many seconds;
        `join_approval` turns joins by handle or link into requests admins approve."""
        body: dict[str, Any] = {k: v for k, v in (("title", title),
                                                  ("description", description),
                                                  ("sign_posts", sign_posts),
                                                  ("slow_mode_s", slow_mode_s),
                                                  ("join_approval", join_approval))
                                if v is not None}
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

    # -- search ---------------------------------------------------------------------------

    async def search(self, query: str, *, chat_id: int | None = None,
                     before: int | None = None, limit: int = 20) -> SearchResults:
        """Messages you may see holding every word of `query` (case, accents and Arabic
        letter forms aside), newest first; in one chat with `chat_id`; the next page with
        `before=results.next_before`."""
        params: dict[str, Any] = {"q": query, "limit": limit}
        if chat_id is not None:
            params["chat_id"] = chat_id
        if before is not None:
            params["before"] = before
        return SearchResults.from_json(await self.call("GET", "/search", params=params))

    # -- public chats ---------------------------------------------------------------------

    async def search_public(self, query: str, *, limit: int = 20) -> list[PublicChat]:
        """Public groups and channels by title or @handle prefix, biggest first."""
        result = await self.call("GET", "/public/search", params={"q": query, "limit": limit})
        return [PublicChat.from_json(c) for c in result["chats"]]

    async def public_chat(self, handle: str) -> PublicPreview:
        """A public chat by @handle with a channel's last 50 posts; needs no sign-in."""
        path = f"/public/chats/{quote(handle.removeprefix('@'), safe='')}"
        return PublicPreview.from_json(await self.call("GET", path))

    async def join(self, chat_id: int) -> Chat | JoinRequest:
        """Join a public group or subscribe to a public channel; where its admins approve
        newcomers, the request that waits for them."""
        return _joined(await self.call("POST", f"/chats/{chat_id}/join"))

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

    async def join_by_invite(self, token: str) -> Chat | JoinRequest:
        """Join by an invite link (as `join`: a request where admins approve newcomers)."""
        return _joined(await self.call("POST", f"/invites/{quote(token, safe='')}/join"))

    # -- chat admins' tools ---------------------------------------------------------------

    async def ban(self, chat_id: int, user_id: int) -> None:
        """Remove and keep out: no rejoining by handle, link, request or being added."""
        await self.call("PUT", f"/chats/{chat_id}/bans/{user_id}")

    async def unban(self, chat_id: int, user_id: int) -> None:
        await self.call("DELETE", f"/chats/{chat_id}/bans/{user_id}")

    async def bans(self, chat_id: int) -> list[Ban]:
        result = await self.call("GET", f"/chats/{chat_id}/bans")
        return [Ban.from_json(b) for b in result["bans"]]

    async def join_requests(self, chat_id: int) -> list[JoinRequest]:
        """Who asks to join, oldest first (admins with `add_members`)."""
        result = await self.call("GET", f"/chats/{chat_id}/join_requests")
        return [JoinRequest.from_json(r) for r in result["join_requests"]]

    async def approve_join(self, chat_id: int, user_id: int) -> None:
        await self.call("POST", f"/chats/{chat_id}/join_requests/{user_id}/approve")

    async def decline_join(self, chat_id: int, user_id: int) -> None:
        await self.call("DELETE", f"/chats/{chat_id}/join_requests/{user_id}")

    async def admin_log(self, chat_id: int, *, before: int | None = None,
                        limit: int = 50) -> list[AdminLogEntry]:
        """The chat's admin actions, newest first (owner and admins)."""
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        result = await self.call("GET", f"/chats/{chat_id}/admin_log", params=params)
        return [AdminLogEntry.from_json(e) for e in result["entries"]]

    async def escalate(self, chat_id: int, *, reason: str, message_id: int | None = None,
                       user_id: int | None = None, note: str = "") -> dict[str, Any]:
        """Take a message of the chat, or a member, to the platform's moderation queue."""
        body: dict[str, Any] = {"reason": reason, "note": note}
        body |= {"message_id": message_id} if message_id is not None else {"user_id": user_id}
        result: dict[str, Any] = await self.call("POST", f"/chats/{chat_id}/escalations",
                                                 json=body)
        return result

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

    # -- scheduled messages ---------------------------------------------------------------

    async def schedule(self, chat_id: int, text: str, send_at_ms: int, *,
                       client_id: str | None = None) -> ScheduledMessage:
        """Have the server send `text` at `send_at_ms`; a repeat of `client_id` returns the
        first (so a retried call never schedules twice)."""
        return ScheduledMessage.from_json(await self.call(
            "POST", f"/chats/{chat_id}/scheduled",
            json={"client_id": client_id or uuid.uuid4().hex, "text": text,
                  "send_at": send_at_ms}))

    async def scheduled(self, chat_id: int) -> list[ScheduledMessage]:
        found = await self.call("GET", f"/chats/{chat_id}/scheduled")
        return [ScheduledMessage.from_json(s) for s in found["scheduled"]]

    async def edit_scheduled(self, chat_id: int, scheduled_id: int, *,
                             text: str | None = None,
                             send_at_ms: int | None = None) -> ScheduledMessage:
        body = {k: v for k, v in (("text", text), ("send_at", send_at_ms)) if v is not None}
        return ScheduledMessage.from_json(await self.call(
            "PATCH", f"/chats/{chat_id}/scheduled/{scheduled_id}", json=body))

    async def cancel_scheduled(self, chat_id: int, scheduled_id: int) -> None:
        await self.call("DELETE", f"/chats/{chat_id}/scheduled/{scheduled_id}")

    async def pin(self, chat_id: int, message_id: int) -> Chat:
        """Pin a message (admins with `pin`, or either side of a direct chat)."""
        return Chat.from_json(await self.call("PUT", f"/chats/{chat_id}/pin",
                                              json={"message_id": message_id}))

    async def unpin(self, chat_id: int) -> Chat:
        return Chat.from_json(await self.call("DELETE", f"/chats/{chat_id}/pin"))

    # -- your own settings for a chat -----------------------------------------------------

    async def mute(self, chat_id: int, *, for_s: int | None = None,
                   mentions: bool = False) -> Mute:
        """Mute a chat on all your devices, for `for_s` seconds (60 s to 366 days) or until
        `unmute`; `mentions` lets your @mentions through."""
        result = await self.call("PUT", f"/chats/{chat_id}/mute",
                                 json={"for_s": for_s, "mentions": mentions})
        mute = Mute.from_json(result["mute"])
        assert mute is not None  # noqa: S101 - the server answers the mute it set
        return mute

    async def unmute(self, chat_id: int) -> None:
        await self.call("DELETE", f"/chats/{chat_id}/mute")

    async def save_draft(self, chat_id: int, text: str) -> Draft | None:
        """Keep `text` as your draft in the chat, for all your devices (blank clears it;
        at most 4,096 characters). Your send there clears it."""
        result = await self.call("PUT", f"/chats/{chat_id}/draft", json={"text": text})
        return Draft.from_json(result["draft"])

    # -- reactions and views --------------------------------------------------------------

    async def react(self, chat_id: int, message_id: int, emoji: str) -> list[ReactionCount]:
        """React with one emoji (at most 3 per message); answers the message's reactions.
        The chat's members get `reaction.added` (in a channel: its owner and admins; every
        subscriber gets `reaction.counts`)."""
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
