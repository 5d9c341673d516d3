"""Messages: send, history, edit, delete, bot buttons, read and delivered marks, typing,
reactions, polls' votes and channel post views."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import ConfigDict, Field

from darbuka.api.deps import Caller, ChatId, MessageId, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.api.schemas import Body, Id, Millis
from darbuka.services.sending import MediaKind, check_send

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]
# Ranges over `text` (see protocol.md, Markup); checked by the service, so a bad range is a
# 422 `invalid_markup` naming what is wrong, over HTTP and the socket alike.
Markup = Annotated[Any, Field(
    description="[{type, from, length, url?, user_id?}]; offsets in UTF-16 code units",
    json_schema_extra={"type": "array", "items": {"type": "object"}})]


class PollBody(Body):
    """A new poll; the message's `text` is its question (1 to 300 characters). Checked by
    the service (400 with a code naming what is wrong, over HTTP and the socket alike)."""

    options: list[str] = Field(description="2 to 10 different options, 1 to 100 characters")
    multiple: bool = False
    anonymous: bool = Field(True, description="nobody sees who chose what; a channel's "
                                              "polls are always anonymous")
    quiz: bool = Field(False, description="one right answer, `correct_option`; answered "
                                          "once, never changed")
    correct_option: int | None = Field(None, description="a quiz's right option (its index)")
    explanation: str | None = Field(None, max_length=200,
                                    description="a quiz's explanation, shown after answering")
    close_at: Millis | None = Field(None, description="when it closes by itself (ms, within "
                                                      "a year)")


class SendBody(Body):
    client_id: str = Field(min_length=1, max_length=64)
    text: str = Field("", max_length=4096)
    reply_to: Id | None = None
    forward_of: Id | None = None
    # A finished upload (see Media); `text` is then its caption (at most 1,024 characters).
    media_id: str | None = Field(None, min_length=1, max_length=32)
    kind: Literal["text", "poll"] | MediaKind | None = None
    # An album: 2 to 10 finished photo and video uploads as one message (instead of
    # media_id, without kind); `text` is its one caption. The message then has `album`.
    media_ids: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        None, min_length=2, max_length=10)
    markup: Markup = None
    # A poll (kind `poll`; then no media, no forward_of): `text` is its question.
    poll: PollBody | None = None


class EditBody(Body):
    text: str = Field(min_length=1, max_length=4096)
    # Replaces the message's markup: an edit without it leaves the text plain.
    markup: Markup = None


class CallbackBody(Body):
    payload: str = Field(max_length=1024)


class ReadBody(Body):
    seq: int = Field(ge=0, lt=2**63)


class DeliveredBody(Body):
    # Checked by the service, as the socket frame's is: any bad seq (missing, a string, a
    # float, negative) is 400 invalid_seq. The schema says what a client should send.
    model_config = ConfigDict(strict=True, extra="ignore",
                              json_schema_extra={"required": ["seq"]})

    seq: Any = Field(None, description="the highest `seq` of the chat this device received",
                     examples=[42], json_schema_extra={"type": "integer", "minimum": 0})


class ReactionBody(Body):
    emoji: str = Field(min_length=1, max_length=16)


class VoteBody(Body):
    # As a send's: a repeat of it changes nothing (an outbox sending again).
    client_id: str = Field(min_length=1, max_length=64)
    options: list[int] = Field(max_length=10, description="the chosen options' indexes: one, "
                               "or several in a multiple-choice poll; none takes the vote back")


class ViewsBody(Body):
    message_ids: list[Id] = Field(min_length=1, max_length=200)


@router.post("/chats/{chat_id}/messages", tags=["messages"])
async def send_message(chat_id: ChatId, body: SendBody, caller: Caller, svc: Svc,
                       response: Response) -> Json:
    """Send once: a repeat of a `client_id` returns the original (200, not 201)."""
    req = check_send(caller.user_id, chat_id, body.client_id, body.text, body.reply_to,
                     body.forward_of, media_id=body.media_id, kind=body.kind,
                     media_ids=body.media_ids, markup=body.markup,
                     poll=body.poll.model_dump(exclude_none=True) if body.poll else None)
    result = await svc.messages.do_send(req)
    response.status_code = 200 if result.repeated else 201
    return result.message


@router.get("/chats/{chat_id}/messages", tags=["messages"])
async def history(chat_id: ChatId, caller: Caller, svc: Svc,
                  before: Annotated[int | None, Query(ge=1, lt=2**63)] = None,
                  after: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Json:
    """Messages by `seq`, oldest first: the newest page, `before=seq` back, `after=seq` on."""
    messages = await svc.messages.history(caller.user_id, chat_id, before=before, after=after,
                                          limit=limit)
    return {"messages": messages}


@router.patch("/chats/{chat_id}/messages/{message_id}", tags=["messages"])
async def edit_message(chat_id: ChatId, message_id: MessageId, body: EditBody, caller: Caller,
                       svc: Svc) -> Json:
    """Change the text of your own message; everyone gets `message.edited`."""
    return await svc.messages.do_edit(caller.user_id, chat_id, message_id, body.text,
                                      markup=body.markup)


@router.delete("/chats/{chat_id}/messages/{message_id}", tags=["messages"])
async def delete_message(chat_id: ChatId, message_id: MessageId, caller: Caller,
                         svc: Svc) -> Json:
    """Delete for everyone: your own messages, or any as a group or channel admin."""
    return await svc.messages.do_delete(caller.user_id, chat_id, message_id)


@router.post("/chats/{chat_id}/messages/{message_id}/callback", tags=["messages"])
async def press_button(chat_id: ChatId, message_id: MessageId, body: CallbackBody,
                       caller: Caller, svc: Svc) -> Json:
    """Press a bot message's callback button; the bot's answer comes as `bot.answer`."""
    callback_id = await svc.bots.do_press(caller.user_id, chat_id, message_id, body.payload)
    return {"callback_id": callback_id}


@router.post("/chats/{chat_id}/read", tags=["messages"])
async def mark_read(chat_id: ChatId, body: ReadBody, caller: Caller, svc: Svc) -> Json:
    """Move your read marker forward to `seq` (never back); the chat sees `chat.read`."""
    return await svc.messages.do_mark_read(caller.user_id, chat_id, body.seq)


@router.post("/chats/{chat_id}/delivered", tags=["messages"])
async def mark_delivered(chat_id: ChatId, body: DeliveredBody, caller: Caller,
                         svc: Svc) -> Json:
    """Move your delivered marker forward to `seq` (never back); the chat sees
    `chat.delivered`. Send it when your device has received messages, seen or not."""
    return await svc.messages.do_mark_delivered(caller.user_id, chat_id, body.seq)


@router.post("/chats/{chat_id}/typing", status_code=204, tags=["messages"])
async def typing(chat_id: ChatId, caller: Caller, svc: Svc) -> Response:
    """Tell the chat's connected members you are typing. Never stored."""
    await svc.messages.do_typing(caller.user_id, chat_id)
    return Response(status_code=204)


@router.put("/chats/{chat_id}/messages/{message_id}/reactions", tags=["messages"])
async def add_reaction(chat_id: ChatId, message_id: MessageId, body: ReactionBody,
                       caller: Caller, svc: Svc) -> Json:
    """React with an emoji (at most 3 per message each); the chat gets `reaction.added`."""
    return await svc.reactions.do_react(caller.user_id, chat_id, message_id, body.emoji,
                                        add=True)


@router.delete("/chats/{chat_id}/messages/{message_id}/reactions", tags=["messages"])
async def remove_reaction(chat_id: ChatId, message_id: MessageId, caller: Caller, svc: Svc,
                          emoji: Annotated[str | None, Query(max_length=16)] = None) -> Json:
    """Take your reaction back; the chat gets `reaction.removed`."""
    return await svc.reactions.do_react(caller.user_id, chat_id, message_id, emoji, add=False)


@router.get("/chats/{chat_id}/reactions", tags=["messages"])
async def reactions(chat_id: ChatId, caller: Caller, svc: Svc,
                    ids: Annotated[str, Query(max_length=2000,
                                              description="message ids, comma-separated")]
                    = "") -> Json:
    """Reactions (emoji, count, mine) and view counts of up to 100 messages."""
    parsed = [int(i) for i in ids.split(",") if i.strip().isdigit() and len(i.strip()) < 19]
    return await svc.reactions.summary(caller.user_id, chat_id, parsed[:100])


@router.post("/chats/{chat_id}/views", tags=["messages"])
async def record_views(chat_id: ChatId, body: ViewsBody, caller: Caller, svc: Svc) -> Json:
    """Report the channel posts you showed (a screenful at a time); each user counts once
    per post. Answers the posts' view counts."""
    return await svc.reactions.do_view(caller.user_id, chat_id, body.message_ids)


@router.post("/chats/{chat_id}/messages/{message_id}/votes", tags=["messages"])
async def vote(chat_id: ChatId, message_id: MessageId, body: VoteBody, caller: Caller,
               svc: Svc) -> Json:
    """Vote in a poll (or change or take back your vote; a quiz is answered once). A repeat
    of a `client_id` changes nothing. Answers the results as you see them; the chat gets
    `poll.results`."""
    return await svc.polls.do_vote(caller.user_id, chat_id, message_id, body.client_id,
                                   body.options)


@router.get("/chats/{chat_id}/messages/{message_id}/poll", tags=["messages"])
async def poll_results(chat_id: ChatId, message_id: MessageId, caller: Caller,
                       svc: Svc) -> Json:
    """A poll's results: counts per option, how many voted, your choice; who chose what
    in a public poll; a quiz's answer once you answered or it closed."""
    return await svc.polls.results(caller.user_id, chat_id, message_id)


@router.post("/chats/{chat_id}/messages/{message_id}/poll/close", tags=["messages"])
async def close_poll(chat_id: ChatId, message_id: MessageId, caller: Caller,
                     svc: Svc) -> Json:
    """Close a poll now: its author, or the chat's owner and admins."""
    return await svc.polls.do_close(caller.user_id, chat_id, message_id)
