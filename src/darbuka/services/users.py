"""Profiles: display name, @username, about, account kind."""

from __future__ import annotations

from typing import Any

from darbuka.errors import BadRequest, Conflict, NotFound
from darbuka.kinds import SELF_KINDS
from darbuka.services.handles import check_handle, do_claim, do_release
from darbuka.services.ratelimit import RateLimiter, WriteLimits
from darbuka.services.text import check_no_nul, clean_name
from darbuka.services.views import public_user_view, user_view
from darbuka.services.writer import Tx, Writer
from darbuka.settings import Settings
from darbuka.storage import Database, DuplicateKey, Stores
from darbuka.storage.rows import UserFields

__all__ = ["UserService"]


def _check_profile(body: dict[str, Any]) -> UserFields:
    values: UserFields = {}
    if "display_name" in body:
        name = body["display_name"]
        if not isinstance(name, str) or len(clean_name(name)) > 64:
            raise BadRequest("display_name must be text of at most 64 characters",
                             code="invalid_display_name")
        values["display_name"] = clean_name(name)
    if "about" in body:
        about = body["about"]
        if not isinstance(about, str) or len(about) > 512:
            raise BadRequest("about must be text of at most 512 characters", code="invalid_about")
        check_no_nul(about, "about")
        values["about"] = about
    if "kind" in body:
        if body["kind"] not in SELF_KINDS:
            raise BadRequest(f"kind must be one of {', '.join(SELF_KINDS)}",
                             code="invalid_kind")
        values["kind"] = body["kind"]
    if "username" in body:
        username = body["username"]
        if username is None or username == "":
            values["username"] = values["username_key"] = None
        else:
            try:
                # Shared with group and channel handles: same normalisation, one namespace.
                values["username"], values["username_key"] = check_handle(username,
                                                                          min_length=4)
            except BadRequest as exc:
                raise BadRequest("username: 4 to 32 letters, digits or _, starting with a "
                                 "letter", code="invalid_username") from exc
    if not values:
        raise BadRequest("nothing to change", code="nothing_to_change")
    return values


class UserService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, limits: RateLimiter,
                 settings: Settings, *, writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        self._limits = limits
        self._settings = settings

    async def get(self, caller_id: int, user_id: int) -> dict[str, Any]:
        """A user's public profile, as `by_username` answers it: someone who blocked the
        caller is the same 404 as an id nobody has.

        User ids are sequential, so lookups count against a per-account hourly limit —
        except of people the caller shares a direct chat or group with, whom they see there
        anyway (the web client looks up everyone whose name it shows). No privacy setting
        hides the profile: it is what the person shows everyone (name, @username, about,
        photo), while presence and finding by number have their own settings.
        """
        async with self._db.read() as conn:
            if user_id != caller_id and not await self._stores.chats.shares_chat(
                    conn, caller_id, user_id, kinds=("direct", "group")):
                await self._limits.check_hit(f"user:{caller_id}", window_s=3600,
                                             limit=self._settings.user_lookups_per_hour)
            row = await self._stores.users.get(conn, user_id)
            if row is not None and await self._stores.privacy.blocked_pairs(
                    conn, [(user_id, caller_id)]):
                row = None
        if row is None:
            raise NotFound("no such user", code="user_not_found")
        return public_user_view(row)

    async def by_username(self, caller_id: int, raw: str) -> dict[str, Any]:
        """The user holding exactly this @username, after the handle normalisation.

        Exact match only (no prefix search) and a per-account hourly limit, counted before
        anything else, so the namespace cannot be walked. Someone who blocked the caller is
        answered as unknown: the caller cannot tell a block from a name nobody holds.
        """
        await self._limits.check_hit(f"username:{caller_id}", window_s=3600,
                                     limit=self._settings.username_lookups_per_hour)
        try:
            _, key = check_handle(raw[:200], min_length=4)
        except BadRequest as exc:
            raise BadRequest("username: 4 to 32 letters, digits or _, starting with a letter",
                             code="invalid_username") from exc
        async with self._db.read() as conn:
            row = await self._stores.users.by_username_key(conn, key)
            if row is not None and await self._stores.privacy.blocked_pairs(
                    conn, [(row["id"], caller_id)]):
                row = None
        if row is None:
            raise NotFound("no such user", code="user_not_found")
        return public_user_view(row)

    async def do_update_me(self, user_id: int, body: dict[str, Any]) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        values = _check_profile(body)

        async def update(tx: Tx) -> dict[str, Any]:
            key = values.get("username_key")
            if key and await tx.stores.users.username_taken(tx.conn, key, by_other_than=user_id):
                raise Conflict("that username is taken", code="username_taken")
            if key:
                await do_claim(tx, key, owner_id=user_id, user_id=user_id)
            elif "username_key" in values:
                await do_release(tx, user_id=user_id)
            try:
                await tx.stores.users.update(tx.conn, user_id, values)
            except DuplicateKey as exc:
                raise Conflict("that username is taken", code="username_taken") from exc
            row = await tx.stores.users.get(tx.conn, user_id)
            assert row is not None  # noqa: S101 - the caller is signed in
            await tx.emit("user.updated", {"user": public_user_view(row)}, user_id=user_id)
            return user_view(row)

        return await self._writer.run(update)
