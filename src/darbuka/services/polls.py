"""Polls: a message of kind `poll` (its question is the text), single or multiple choice,
anonymous or public, or a quiz with one right answer; closed by hand or at `close_at`.

A vote is a person's whole choice, sent with a client id as a send is: `(voter, client_id)`
is kept forever, so an outbox that sends a vote again after a dropped answer — even after a
later vote replaced it — changes nothing. Votes share their transaction with the other
small writes (`Writer.run_shared`), as reactions do.

Who learns what: everyone in the chat gets the counts (`poll.results`, nobody named); who
chose what (`poll.vote`) goes to the chat only in a public poll, else to the voter's own
devices. A channel's polls are always anonymous (subscribers do not learn who else
subscribes). A quiz's right answer leaves the server only for someone who answered, and for
everyone once the poll is closed. A poll is closed from its `close_at` on, whether or not
the job that announces it (`poll-close`) has run yet.
"""

from __future__ import annotations

from typing import Any

import orjson

from darbuka.clock import Clock
from darbuka.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from darbuka.services.access import access_message, check_can_interact
from darbuka.services.jobs import RetryLater
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.text import check_no_nul
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import MessageRow

__all__ = ["MAX_OPTIONS", "MAX_QUESTION", "POLL_CLOSE_JOB", "PollService", "check_poll",
           "is_closed", "poll_send_refusal", "queue_poll_close"]

MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTION, MAX_OPTION, MAX_EXPLANATION = 300, 100, 200
MAX_CLIENT_ID = 64
MAX_AHEAD_MS = 366 * 24 * 3600 * 1000  # close_at within a year
VOTERS_SHOWN = 100  # of a public poll, per option
POLL_CLOSE_JOB = "poll-close"


def _flag(raw: dict[str, Any], name: str, default: bool) -> bool:
    value = raw.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadRequest(f"poll.{name} must be true or false", code="invalid_poll")
    return value


def _options(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not MIN_OPTIONS <= len(raw) <= MAX_OPTIONS:
        raise BadRequest(f"a poll has {MIN_OPTIONS} to {MAX_OPTIONS} options",
                         code="invalid_poll_options")
    options = []
    for option in raw:
        if not isinstance(option, str) or not option.strip() or len(option) > MAX_OPTION:
            raise BadRequest(f"each option is 1 to {MAX_OPTION} characters",
                             code="invalid_poll_options")
        check_no_nul(option, "option")
        options.append(option.strip())
    if len(set(options)) != len(options):
        raise BadRequest("a poll's options must differ", code="invalid_poll_options")
    return options


def check_poll(raw: Any, question: str) -> str:
    """The shape of a new poll (`question` is the message text): its stored JSON. Times are
    checked when it is stored (`poll_send_refusal`)."""
    if not isinstance(raw, dict):
        raise BadRequest("poll must be an object", code="invalid_poll")
    if not question.strip() or len(question) > MAX_QUESTION:
        raise BadRequest(f"a poll's question (text) is 1 to {MAX_QUESTION} characters",
                         code="invalid_poll_question")
    poll: dict[str, Any] = {"options": _options(raw.get("options")),
                            "multiple": _flag(raw, "multiple", False),
                            "anonymous": _flag(raw, "anonymous", True),
                            "quiz": _flag(raw, "quiz", False)}
    correct, explanation = raw.get("correct_option"), raw.get("explanation")
    if poll["quiz"]:
        if poll["multiple"]:
            raise BadRequest("a quiz has one right answer: it cannot be multiple choice",
                             code="invalid_poll")
        if not _is_index(correct, len(poll["options"])):
            raise BadRequest("a quiz needs correct_option: the index of the right option",
                             code="invalid_correct_option")
        poll["correct"] = correct
        if explanation is not None:
            if not isinstance(explanation, str) or len(explanation) > MAX_EXPLANATION:
                raise BadRequest(f"explanation is at most {MAX_EXPLANATION} characters",
                                 code="invalid_poll")
            check_no_nul(explanation, "explanation")
            if explanation.strip():
                poll["explanation"] = explanation.strip()
    elif correct is not None or explanation is not None:
        raise BadRequest("correct_option and explanation are for quizzes",
                         code="invalid_poll")
    close_at = raw.get("close_at")
    if close_at is not None:
        if not isinstance(close_at, int) or isinstance(close_at, bool):
            raise BadRequest("close_at must be a time in ms", code="invalid_close_at")
        poll["close_at"] = close_at
    return orjson.dumps(poll).decode()


def poll_send_refusal(stored: str, chat_kind: str, now: int) -> ApiError | None:
    """Why this poll may not be posted now in a chat of `chat_kind` (None: it may)."""
    poll = orjson.loads(stored)
    close_at = poll.get("close_at")
    if close_at is not None and not now < close_at <= now + MAX_AHEAD_MS:
        return BadRequest("close_at must be in the future, within a year",
                          code="invalid_close_at")
    if chat_kind == "channel" and not poll["anonymous"]:
        return BadRequest("a channel's polls are anonymous: its subscribers do not see who "
                          "else subscribes", code="channel_poll_public")
    return None


async def queue_poll_close(tx: Tx, rows: list[MessageRow]) -> None:
    """The jobs that announce, at their time, that the new polls among `rows` closed."""
    for row in rows:
        if row["kind"] != "poll" or not row.get("poll"):
            continue
        close_at = orjson.loads(row["poll"] or "{}").get("close_at")
        if close_at is not None:
            await tx.queue_job(POLL_CLOSE_JOB, f"poll:{row['id']}",
                               {"message_id": row["id"]}, delay_ms=max(0, close_at - tx.now))


def _is_index(value: Any, count: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < count


def is_closed(poll: dict[str, Any], now: int) -> bool:
    close_at = poll.get("close_at")
    return poll.get("closed_at") is not None or (close_at is not None and now >= close_at)


def _poll_of(message: MessageRow) -> dict[str, Any]:
    if message["kind"] != "poll" or not message.get("poll"):
        raise BadRequest("this message is not a poll", code="not_a_poll")
    if message["deleted"]:
        raise NotFound("that message was deleted", code="message_not_found")
    poll: dict[str, Any] = orjson.loads(message["poll"] or "{}")
    return poll


def _check_choice(poll: dict[str, Any], options: Any) -> list[int]:
    count = len(poll["options"])
    if not isinstance(options, list) or not all(_is_index(o, count) for o in options) \
            or len(set(options)) != len(options):
        raise BadRequest(f"options must be different option indexes, 0 to {count - 1}",
                         code="invalid_options")
    if len(options) > 1 and not poll["multiple"]:
        raise BadRequest("this poll takes one option", code="invalid_options")
    return sorted(options)


def _check_client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID:
        raise BadRequest("client_id must be a string of 1 to 64 characters (a UUID is best)",
                         code="invalid_client_id")
    return client_id


async def results(conn: Conn, stores: Stores, message: MessageRow, poll: dict[str, Any],
                  viewer_id: int | None, now: int) -> dict[str, Any]:
    """A poll's results as `viewer_id` sees them (None: a reader of a public page)."""
    tally = await _tally(conn, stores, message, poll, now)
    return await _for_viewer(conn, stores, tally, poll, viewer_id)


async def _tally(conn: Conn, stores: Stores, message: MessageRow, poll: dict[str, Any],
                 now: int) -> dict[str, Any]:
    """What everyone may know: the counts, how many voted, whether it is closed."""
    message_id = message["id"]
    counts = (await stores.polls.counts(conn, [message_id])).get(message_id, {})
    voters = (await stores.polls.voter_counts(conn, [message_id])).get(message_id, 0)
    return {"message_id": message_id, "chat_id": message["chat_id"],
            "counts": [counts.get(i, 0) for i in range(len(poll["options"]))],
            "voters": voters, "closed": is_closed(poll, now)}


async def _for_viewer(conn: Conn, stores: Stores, tally: dict[str, Any],
                      poll: dict[str, Any], viewer_id: int | None, *,
                      mine: list[int] | None = None) -> dict[str, Any]:
    """`tally` with what `viewer_id` may know besides: their choice (`mine`, when known
    already), a quiz's answer, who chose what in a public poll."""
    view = dict(tally)
    message_id = tally["message_id"]
    if viewer_id is not None:
        if mine is None:
            mine = await stores.polls.mine(conn, message_id, viewer_id)
        view["mine"] = mine
    if poll["quiz"] and (mine or tally["closed"]):
        view.update(_answer(poll))
    if not poll["anonymous"] and viewer_id is not None:
        found = await stores.polls.voters(conn, message_id, per_option=VOTERS_SHOWN)
        view["voter_ids"] = [found.get(i, []) for i in range(len(poll["options"]))]
    return view


def _answer(poll: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"correct_option": poll["correct"]}
    if poll.get("explanation"):
        answer["explanation"] = poll["explanation"]
    return answer


async def _tell_results(tx: Tx, message: MessageRow, poll: dict[str, Any]) -> dict[str, Any]:
    """The counts, nobody named, to everyone in the chat (and the answer, once closed);
    answers the tally told."""
    tally = await _tally(tx.conn, tx.stores, message, poll, tx.now)
    body = {**tally, **_answer(poll)} if tally["closed"] and poll["quiz"] else tally
    await tx.emit("poll.results", body, chat_id=message["chat_id"])
    return tally


class PollService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock, *,
                 writes: WriteLimits) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._clock = clock
        self._writes = writes

    async def do_vote(self, user_id: int, chat_id: int, message_id: int, client_id: Any,
                      options: Any) -> dict[str, Any]:
        """Make `options` the user's choice (an empty list takes the vote back); answers
        the results as the voter sees them. A repeat of a client id changes nothing."""
        await self._writes.check("reactions", user_id)
        client_id_ = _check_client_id(client_id)

        async def vote(tx: Tx) -> dict[str, Any]:
            access, message = await access_message(tx.conn, tx.stores, user_id, chat_id,
                                                   message_id)
            poll = _poll_of(message)
            earlier = await tx.stores.polls.ballot(tx.conn, user_id, client_id_)
            if earlier is not None:
                if earlier != message_id:
                    raise Conflict("this client_id was used for another vote",
                                   code="client_id_reused")
                return await results(tx.conn, tx.stores, message, poll, user_id, tx.now)
            check_can_interact(access)
            chosen = _check_choice(poll, options)
            if is_closed(poll, tx.now):
                raise Conflict("this poll is closed", code="poll_closed")
            before = await tx.stores.polls.mine(tx.conn, message_id, user_id)
            if poll["quiz"] and before:
                raise Conflict("a quiz is answered once", code="quiz_answered")
            if poll["quiz"] and not chosen:
                raise BadRequest("a quiz's answer is one option", code="invalid_options")
            await tx.stores.polls.add_ballot(tx.conn, user_id=user_id, client_id=client_id_,
                                             message_id=message_id, now=tx.now)
            if chosen == before:
                return await results(tx.conn, tx.stores, message, poll, user_id, tx.now)
            await tx.stores.polls.replace(tx.conn, message_id=message_id, chat_id=chat_id,
                                          user_id=user_id, options=chosen, now=tx.now)
            body = {"chat_id": chat_id, "message_id": message_id, "user_id": user_id,
                    "options": chosen}
            if poll["anonymous"]:
                await tx.emit("poll.vote", body, user_id=user_id)
            else:
                await tx.emit("poll.vote", body, chat_id=chat_id)
            tally = await _tell_results(tx, message, poll)
            return await _for_viewer(tx.conn, tx.stores, tally, poll, user_id, mine=chosen)

        return await self._writer.run_shared(vote)

    async def results(self, user_id: int, chat_id: int, message_id: int) -> dict[str, Any]:
        async with self._db.read() as conn:
            _, message = await access_message(conn, self._stores, user_id, chat_id, message_id)
            poll = _poll_of(message)
            return await results(conn, self._stores, message, poll, user_id,
                                 self._clock.now_ms())

    async def do_close(self, user_id: int, chat_id: int, message_id: int) -> dict[str, Any]:
        """Close a poll by hand: its author, or the chat's owner and admins."""
        await self._writes.check("other", user_id)

        async def close(tx: Tx) -> dict[str, Any]:
            access, message = await access_message(tx.conn, tx.stores, user_id, chat_id,
                                                   message_id)
            poll = _poll_of(message)
            if message["sender_id"] != user_id and not (
                    access.is_admin and access.chat["kind"] != "direct"):
                raise Forbidden("only the poll's author or the chat's admins close it",
                                code="cannot_close_poll")
            if is_closed(poll, tx.now):
                raise Conflict("this poll is closed", code="poll_closed")
            tally = await self._close(tx, message, poll, tx.now)
            return await _for_viewer(tx.conn, tx.stores, tally, poll, user_id)

        return await self._writer.run(close)

    async def close_job(self, payload: dict[str, Any]) -> None:
        """The `poll-close` job: at a poll's `close_at`, tell the chat it closed."""
        message_id = int(payload["message_id"])

        async def close(tx: Tx) -> float:
            message = await tx.stores.messages.get(tx.conn, message_id)
            if message is None or message["deleted"] or not message.get("poll"):
                return 0.0
            poll: dict[str, Any] = orjson.loads(message["poll"] or "{}")
            if poll.get("closed_at") is not None or poll.get("close_at") is None:
                return 0.0
            if tx.now < poll["close_at"]:  # this machine's clock is behind the server's
                return float(poll["close_at"] - tx.now) / 1000
            await self._close(tx, message, poll, poll["close_at"])
            return 0.0

        wait_s = await self._writer.run(close)
        if wait_s > 0:
            raise RetryLater(min(wait_s, 60.0), "the poll closes later")

    @staticmethod
    async def _close(tx: Tx, message: MessageRow, poll: dict[str, Any],
                     at: int) -> dict[str, Any]:
        poll["closed_at"] = at
        await tx.stores.messages.update(tx.conn, message["id"],
                                        {"poll": orjson.dumps(poll).decode()})
        return await _tell_results(tx, message, poll)
