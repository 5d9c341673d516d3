"""Bot API routes (TamTam 0.5.6 paths). Thin: parse, call a service, render TamTam shapes."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request

from darbuka.adapters import Services
from darbuka.botapi.deps import Bot, JsonBody, Svc, parse_id
from darbuka.botapi.messages import NewMessage, check_new_message
from darbuka.botapi.updates import UpdateFeed
from darbuka.botapi.views import bot_info, present, tam_chat, tam_message, tam_user
from darbuka.errors import BadRequest, Conflict, NotFound
from darbuka.services.access import ADMIN_ROLES
from darbuka.services.auth import Principal
from darbuka.services.sending import check_send

__all__ = ["router"]

router = APIRouter()
Json = dict[str, Any]
SUCCESS: Json = {"success": True}


# -- the bot ------------------------------------------------------------------------------

@router.get("/me")
async def get_me(bot: Bot, svc: Svc) -> Json:
    row = await svc.bots.get(bot.user_id)
    return bot_info(bot.user, row, orjson.loads(row["commands"]))


@router.patch("/me")
async def edit_me(bot: Bot, svc: Svc, body: JsonBody) -> Json:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a BotPatch object", code="proto.payload")
    name, description, commands = body.get("name"), body.get("description"), body.get("commands")
    values: Json = {}
    if name is not None:
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 64:
            raise BadRequest("name is 1 to 64 characters", code="proto.payload")
        values["name"] = name.strip()
    if description is not None:
        if not isinstance(description, str) or len(description) > 16000:
            raise BadRequest("description is at most 16000 characters", code="proto.payload")
        values["description"] = description
    if commands is not None:
        if not isinstance(commands, list) or not all(
                isinstance(c, dict) and isinstance(c.get("name"), str) for c in commands):
            raise BadRequest("commands are [{name, description}]", code="proto.payload")
        values["commands"] = [{"name": c["name"][:64], "description": c.get("description")}
                              for c in commands[:32]]
    await svc.bots.do_edit(bot.user_id, values)
    users, _ = await svc.bots.lookup({bot.user_id}, set())
    row = await svc.bots.get(bot.user_id)
    return bot_info(users[bot.user_id], row, orjson.loads(row["commands"]))


# -- chats --------------------------------------------------------------------------------

@router.get("/chats")
async def list_chats(bot: Bot, svc: Svc, count: Annotated[int, Query(ge=1, le=100)] = 50,
                     marker: Annotated[int | None, Query(ge=0, lt=2**63)] = None) -> Json:
    chats = sorted(await svc.chats.list_for(bot.user_id), key=lambda c: int(c["id"]))
    chats = [c for c in chats if marker is None or c["id"] > marker]
    page = chats[:count]
    next_marker = page[-1]["id"] if len(chats) > count else None
    return {"chats": [tam_chat(c) for c in page], "marker": next_marker}


@router.get("/chats/{chat_id}")
async def get_chat(chat_id: str, bot: Bot, svc: Svc) -> Json:
    """A chat by id (one the bot is in), or by link — a public chat's @handle, which
    anyone may look at (MAX's getChatByLink)."""
    if chat_id.isdigit():
        return tam_chat(await svc.chats.get(bot.user_id, parse_id(chat_id, "chatId")))
    chat, _ = await svc.public.preview(chat_id.removeprefix("@"))
    return tam_chat({**chat, "public": True})


@router.patch("/chats/{chat_id}")
async def edit_chat(chat_id: int, bot: Bot, svc: Svc, body: JsonBody) -> Json:
    if not isinstance(body, dict) or "title" not in body:
        raise BadRequest("only title can be changed", code="proto.payload")
    return tam_chat(await svc.chats.do_update(bot.user_id, chat_id, {"title": body["title"]}))


@router.post("/chats/{chat_id}/actions")
async def send_action(chat_id: int, bot: Bot, svc: Svc, body: JsonBody) -> Json:
    action = body.get("action") if isinstance(body, dict) else None
    chat = await svc.chats.get(bot.user_id, chat_id)
    if action == "typing_on":
        await svc.messages.do_typing(bot.user_id, chat_id)
    elif action == "mark_seen":
        await svc.messages.do_mark_read(bot.user_id, chat_id, chat["last_seq"])
    elif action not in ("sending_photo", "sending_video", "sending_audio", "sending_file",
                        "typing_off"):
        raise BadRequest("unknown action", code="proto.payload")
    return SUCCESS


@router.get("/chats/{chat_id}/pin")
async def get_pinned(chat_id: int, bot: Bot, svc: Svc) -> Json:
    chat = await svc.chats.get(bot.user_id, chat_id)
    pinned = chat.get("pinned_message_id")
    if pinned is None:
        return {"message": None}
    (message,) = await _tam_messages(svc, bot, [await svc.bots.message(bot.user_id, pinned)])
    return {"message": message}


@router.put("/chats/{chat_id}/pin")
async def pin_message(chat_id: int, bot: Bot, svc: Svc, body: JsonBody) -> Json:
    message_id = body.get("message_id") if isinstance(body, dict) else None
    await svc.chats.do_pin(bot.user_id, chat_id, parse_id(message_id, "message_id"))
    return SUCCESS


@router.delete("/chats/{chat_id}/pin")
async def unpin_message(chat_id: int, bot: Bot, svc: Svc) -> Json:
    await svc.chats.do_pin(bot.user_id, chat_id, None)
    return SUCCESS


@router.get("/chats/{chat_id}/members/me")
async def my_membership(chat_id: int, bot: Bot, svc: Svc) -> Json:
    chat = await svc.chats.get(bot.user_id, chat_id)
    return _member(bot.user, {"role": chat["role"], "joined_at": 0,
                              "rights": chat.get("rights")})


@router.delete("/chats/{chat_id}/members/me")
async def leave_chat(chat_id: int, bot: Bot, svc: Svc) -> Json:
    await svc.members.do_leave(bot.user_id, chat_id)
    return SUCCESS


@router.get("/chats/{chat_id}/members/admins")
async def get_admins(chat_id: int, bot: Bot, svc: Svc) -> Json:
    rows = await svc.members.members(bot.user_id, chat_id, after=0, limit=20_000)
    admins = [r for r in rows if r["role"] in ADMIN_ROLES]
    return {"members": await _members(svc, admins), "marker": None}


@router.get("/chats/{chat_id}/members")
async def get_members(chat_id: int, bot: Bot, svc: Svc,
                      user_ids: Annotated[str | None, Query(max_length=10_000)] = None,
                      marker: Annotated[int, Query(ge=0, lt=2**63)] = 0,
                      count: Annotated[int, Query(ge=1, le=100)] = 20) -> Json:
    if user_ids:
        wanted = {parse_id(u, "user_ids") for u in user_ids.split(",")}
        rows = await svc.members.members(bot.user_id, chat_id, after=0, limit=20_000)
        chosen = [r for r in rows if r["user_id"] in wanted]
        return {"members": await _members(svc, chosen), "marker": None}
    rows = await svc.members.members(bot.user_id, chat_id, after=marker, limit=count)
    next_marker = rows[-1]["user_id"] if len(rows) == count else None
    return {"members": await _members(svc, rows), "marker": next_marker}


@router.post("/chats/{chat_id}/members")
async def add_members(chat_id: int, bot: Bot, svc: Svc, body: JsonBody) -> Json:
    ids = body.get("user_ids") if isinstance(body, dict) else None
    await svc.members.do_add_members(bot.user_id, chat_id, ids)
    return SUCCESS


@router.delete("/chats/{chat_id}/members")
async def remove_member(chat_id: int, bot: Bot, svc: Svc,
                        user_id: Annotated[int, Query(gt=0, lt=2**63)],
                        block: bool = False) -> Json:
    """`block=true` bans as well (TamTam's block): they cannot come back."""
    if block:
        await svc.bans.do_ban(bot.user_id, chat_id, user_id)
    else:
        await svc.members.do_remove_member(bot.user_id, chat_id, user_id)
    return SUCCESS


async def _members(svc: Services, rows: list[Json]) -> list[Json]:
    users, _ = await svc.bots.lookup({r["user_id"] for r in rows}, set())
    return [_member(users.get(r["user_id"]) or {"id": r["user_id"]}, r) for r in rows]


def _member(user: Mapping[str, Any], row: Mapping[str, Any]) -> Json:
    base = tam_user(user) if "display_name" in user else tam_user(None, user["id"])
    return {**base, **present(
        last_access_time=0, is_owner=row["role"] == "owner",
        is_admin=row["role"] in ADMIN_ROLES, join_time=row.get("joined_at", 0),
        permissions=_permissions(row.get("rights") or ()) if row["role"] in ADMIN_ROLES
        else None)}


# TamTam's admin permissions, by the rights each needs (add_remove_members needs both),
# then MAX's additions that Darbuka's rights answer: the invite link and handle are chat
# info; every admin may delete anyone's message; posting is what a channel admin edits
# and deletes.
_PERMISSIONS: tuple[tuple[str, set[str]], ...] = (("read_all_messages", {"read_all"}),
                ("add_remove_members", {"add_members", "remove_members"}),
                ("add_admins", {"add_admins"}), ("change_chat_info", {"change_info"}),
                ("pin_message", {"pin"}), ("write", {"write"}),
                ("edit_link", {"change_info"}), ("delete_message", set()),
                ("post_edit_delete_message", {"write"}))


def _permissions(rights: Iterable[str]) -> list[str]:
    """What an admin's rights let them do, as TamTam names it: only what they hold."""
    held = set(rights)
    return [name for name, needs in _PERMISSIONS if needs <= held]


# -- messages -----------------------------------------------------------------------------

@router.post("/messages")
async def send_message(bot: Bot, svc: Svc, body: JsonBody,
                       chat_id: Annotated[int | None, Query(gt=0, lt=2**63)] = None,
                       user_id: Annotated[int | None, Query(gt=0, lt=2**63)] = None,
                       disable_link_preview: bool = False) -> Json:
    # `disable_link_preview` is accepted: Darbuka makes no link previews, so every message
    # is sent as if it were true.
    new = check_new_message(body)
    if chat_id is None:
        if user_id is None:
            raise BadRequest("give chat_id or user_id", code="proto.payload")
        chat, _ = await svc.chats.do_create(bot.user_id, {"kind": "direct", "user_id": user_id})
    else:
        chat = await svc.chats.get(bot.user_id, chat_id)
    req = check_send(bot.user_id, chat["id"], str(uuid.uuid4()), new.text or "",
                     new.reply_to, new.forward_of, media_id=new.media_id, kind=new.kind,
                     markup=new.markup)
    result = await svc.messages.do_send(dataclasses.replace(req, keyboard=new.keyboard or None))
    return {"message": tam_message(result.message, bot.user, chat)}


@router.put("/messages")
async def edit_message(bot: Bot, svc: Svc, body: JsonBody,
                       message_id: Annotated[str, Query(max_length=40)]) -> Json:
    new = check_new_message(body)
    current = await svc.bots.message(bot.user_id, parse_id(message_id, "message_id"))
    await _edit(svc, bot, current, new)
    return SUCCESS


async def _edit(svc: Services, bot: Principal, current: Json, new: NewMessage) -> None:
    """Edit with a NewMessageBody: a body without text keeps the text and its markup."""
    if new.text is None:
        text, markup = current.get("text", ""), current.get("markup")
    else:
        text, markup = new.text, new.markup
    await svc.messages.do_edit(bot.user_id, current["chat_id"], current["id"], text,
                               markup=markup, keyboard=new.keyboard)


@router.delete("/messages")
async def delete_message(bot: Bot, svc: Svc,
                         message_id: Annotated[str, Query(max_length=40)]) -> Json:
    current = await svc.bots.message(bot.user_id, parse_id(message_id, "message_id"))
    await svc.messages.do_delete(bot.user_id, current["chat_id"], current["id"])
    return SUCCESS


@router.get("/messages")
async def get_messages(bot: Bot, svc: Svc,
                       chat_id: Annotated[int | None, Query(gt=0, lt=2**63)] = None,
                       message_ids: Annotated[str | None, Query(max_length=4000)] = None,
                       from_: Annotated[int | None, Query(alias="from", ge=0)] = None,
                       to: Annotated[int | None, Query(ge=0)] = None,
                       count: Annotated[int, Query(ge=1, le=100)] = 50) -> Json:
    if message_ids:
        views = [await svc.bots.message(bot.user_id, parse_id(m, "message_ids"))
                 for m in message_ids.split(",")[:100]]
    elif chat_id is not None:
        views = await svc.messages.history(bot.user_id, chat_id, before=None, after=None,
                                           limit=200)
        views = [v for v in reversed(views) if not v.get("deleted") and "system" not in v
                 and (from_ is None or v["created_at"] <= from_)
                 and (to is None or v["created_at"] >= to)][:count]
    else:
        raise BadRequest("give chat_id or message_ids", code="proto.payload")
    return {"messages": await _tam_messages(svc, bot, views)}


@router.get("/messages/{message_id}")
async def get_message(message_id: str, bot: Bot, svc: Svc) -> Json:
    view = await svc.bots.message(bot.user_id, parse_id(message_id, "messageId"))
    (message,) = await _tam_messages(svc, bot, [view])
    return message


async def _tam_messages(svc: Services, bot: Principal, views: list[Json]) -> list[Json]:
    users, chats = await svc.bots.lookup({v["sender_id"] for v in views if v.get("sender_id")},
                                         {v["chat_id"] for v in views})
    return [tam_message(v, users.get(v.get("sender_id") or 0), chats.get(v["chat_id"]))
            for v in views]


# -- callbacks, updates, webhooks, uploads ------------------------------------------------

@router.post("/answers")
async def answer(bot: Bot, svc: Svc, body: JsonBody,
                 callback_id: Annotated[str, Query(max_length=64)]) -> Json:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a CallbackAnswer object", code="proto.payload")
    notification = body.get("notification")
    if notification is not None and (not isinstance(notification, str)
                                     or len(notification) > 4000):
        raise BadRequest("notification must be text", code="proto.payload")
    press = await svc.bots.do_answer(bot.user_id, callback_id, notification)
    if body.get("message") is not None:
        new = check_new_message(body["message"])
        await _edit(svc, bot, await svc.bots.message(bot.user_id, press["message_id"]), new)
    return SUCCESS


@router.get("/updates")
async def get_updates(request: Request, bot: Bot, svc: Svc,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                      timeout: Annotated[int, Query(ge=0, le=90)] = 30,  # noqa: ASYNC109 - the API's name
                      marker: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
                      types: Annotated[str | None, Query(max_length=1000)] = None) -> Json:
    """Long polling. Passing `marker` commits every update before it."""
    if await svc.bots.subscriptions(bot.user_id):
        # Both would move the one marker: updates would go out twice or be skipped.
        raise Conflict("this bot has a webhook; delete the subscription to poll",
                       code="webhook.subscribed")
    if marker is None:
        marker = int((await svc.bots.get(bot.user_id))["marker"])
    else:
        await svc.bots.do_commit_marker(bot.user_id, marker)
    wanted = frozenset(types.split(",")) if types else None
    updates, next_marker = await UpdateFeed(svc).wait(bot.user_id, marker, limit=limit,
                                                      device_id=bot.device_id,
                                                      wait_s=timeout, types=wanted,
                                                      gone=request.is_disconnected)
    return {"updates": updates, "marker": next_marker}


@router.get("/subscriptions")
async def get_subscriptions(bot: Bot, svc: Svc) -> Json:
    rows = await svc.bots.subscriptions(bot.user_id)
    return {"subscriptions": [present(url=r["url"], time=r["created_at"],
                                      update_types=orjson.loads(r["update_types"]) or None,
                                      version=r["version"] or None) for r in rows]}


@router.post("/subscriptions")
async def subscribe(bot: Bot, svc: Svc, body: JsonBody) -> Json:
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        raise BadRequest("give the webhook url", code="proto.payload")
    types = body.get("update_types") or []
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise BadRequest("update_types must be a list of names", code="proto.payload")
    await svc.bots.do_subscribe(bot.user_id, body["url"], types,
                                str(body.get("version") or "")[:16])
    return SUCCESS


@router.delete("/subscriptions")
async def unsubscribe(bot: Bot, svc: Svc, url: Annotated[str, Query(max_length=2048)]) -> Json:
    if not await svc.bots.do_unsubscribe(bot.user_id, url):
        raise NotFound("no subscription with this url", code="not.found")
    return SUCCESS

