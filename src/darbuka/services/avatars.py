"""Profile photos of users and chats: an upload of kind `avatar`, processed like photos
(square crop, `large` 640 px and `small` 160 px WebP, ThumbHash, PDQ)."""

from __future__ import annotations

from typing import Any

from darbuka.errors import BadRequest, Forbidden
from darbuka.services.access import access_chat
from darbuka.services.adminlog import do_log
from darbuka.services.media import MediaService
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.rights import check_right
from darbuka.services.views import chat_view, public_user_view, user_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores

__all__ = ["AvatarService"]


class AvatarService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 media: MediaService, *, writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        self._media = media

    async def _checked(self, user_id: int, media_id: str | None) -> str | None:
        if media_id is None:
            return None
        row = await self._media.wait_ready(user_id, media_id)
        if row["kind"] != "avatar" or row["owner_id"] != user_id:
            raise BadRequest("upload the picture with kind avatar first", code="not_an_avatar")
        return media_id

    async def do_set_mine(self, user_id: int, media_id: str | None) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        avatar = await self._checked(user_id, media_id)

        async def change(tx: Tx) -> dict[str, Any]:
            await tx.stores.users.update(tx.conn, user_id, {"avatar": avatar})
            row = await tx.stores.users.get(tx.conn, user_id)
            assert row is not None  # noqa: S101 - the caller is signed in
            body = {"user": public_user_view(row)}
            await tx.emit("user.updated", body, user_id=user_id)
            # The people who see this user's face (direct chats and groups) hear of it too,
            # so their lists and conversations change without a reload.
            for chat_id in await tx.stores.chats.shared_chat_ids(tx.conn, user_id):
                await tx.emit("user.updated", {**body, "chat_id": chat_id}, chat_id=chat_id)
            return user_view(row)

        return await self._writer.run(change)

    async def do_set_chat(self, user_id: int, chat_id: int,
                          media_id: str | None) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        async with self._db.read() as conn:  # the chat's door before the media's
            await access_chat(conn, self._stores, user_id, chat_id)
        avatar = await self._checked(user_id, media_id)

        async def change(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            if access.chat["kind"] == "direct":
                raise Forbidden("direct chats show the other person's photo",
                                code="direct_chat")
            await check_right(tx.conn, tx.stores, access, "change_info", user_id)
            await tx.stores.chats.update(tx.conn, chat_id, {"avatar": avatar})
            await do_log(tx, chat_id, user_id, "chat.photo", media_id=avatar)
            chat = await tx.stores.chats.get(tx.conn, chat_id)
            assert chat is not None  # noqa: S101 - checked by access_chat
            view = chat_view(chat)
            await tx.emit("chat.updated", {"chat": view}, chat_id=chat_id)
            return view

        return await self._writer.run(change)
