"""Routing of live events to the sinks (sockets, long polls) of a chat's members, in this
process: the bus hands every committed event here, and the hub pushes it to the sinks of
the users it concerns.

Routing state is per user: the set of chats they are in, kept current by the membership
events themselves (in a channel those reach only the member and the admins: the member's
own copy, scoped to them, carries the change). Loading that set races with membership
changes, so while it loads the user's membership events are kept and replayed on top (see
`attach`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from darbuka.stream import Ephemeral, Event

__all__ = ["Hub", "Sink"]

# Returns (the stream's complete head read *before* the chat ids, the user's chat ids, and
# the positions past that head whose changes the chat ids already show: on PostgreSQL writes
# commit out of position order, so some may have committed before the read).
LoadChats = Callable[[int], Awaitable[tuple[int, set[int], frozenset[int]]]]


class Sink(Protocol):
    user_id: int

    def push(self, event: Event) -> None:
        """Take a committed event; must not block."""
        ...

    def push_ephemeral(self, notice: Ephemeral) -> None: ...


class _User:
    __slots__ = ("chats", "held", "ready", "sinks", "user_id")

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.sinks: set[Sink] = set()
        self.chats: set[int] = set()
        # While loading: membership events seen meanwhile, and an Event to wait on.
        self.held: list[Event] | None = []
        self.ready: asyncio.Event | None = asyncio.Event()


class Hub:
    def __init__(self, load_chats: LoadChats,
                 on_presence: Callable[[int, bool], None] | None = None) -> None:
        """`on_presence(user_id, online)`: the user's first sink here opened (True), or
        their last one closed; the composition root hands in the cluster's presence."""
        self._load_chats = load_chats
        self._on_presence = on_presence or _no_presence
        self._users: dict[int, _User] = {}
        self._chat_users: dict[int, set[_User]] = {}
        self.delivered = 0
        # The highest position dispatched. A sink that attaches replays from storage up to
        # at least this: what was dispatched before it attached reached it no other way
        # (on PostgreSQL the stream's complete head may not have caught up yet).
        self.dispatched = 0

    @property
    def sink_count(self) -> int:
        return sum(len(u.sinks) for u in self._users.values())

    def is_member(self, user_id: int, chat_id: int) -> bool:
        """What live routing believes; a cheap check for ephemeral notices only."""
        user = self._users.get(user_id)
        return user is not None and user.ready is None and chat_id in user.chats

    async def attach(self, sink: Sink) -> None:
        """Start routing the user's live events to `sink`.

        Anything committed after this returns reaches the sink; anything committed before is
        in storage. A caller that replays from storage after attaching misses nothing.
        """
        user = self._users.get(sink.user_id)
        if user is None:
            user = self._users[sink.user_id] = _User(sink.user_id)
            user.sinks.add(sink)
            self._on_presence(sink.user_id, True)
            try:
                head, chats, shown = await self._load_chats(sink.user_id)
            except BaseException:
                self._drop(user)
                raise
            self._finish_loading(user, head, chats, shown)
        else:
            user.sinks.add(sink)
            if user.ready is not None:
                await user.ready.wait()
                if self._users.get(sink.user_id) is not user:
                    raise RuntimeError("loading the user's chats failed")

    def _finish_loading(self, user: _User, head: int, chats: set[int],
                        shown: frozenset[int]) -> None:
        user.chats = chats
        for event in user.held or ():
            if event.pos > head and event.pos not in shown:
                self._apply_membership(user, event)
        user.held = None
        for chat_id in user.chats:
            self._chat_users.setdefault(chat_id, set()).add(user)
        assert user.ready is not None  # noqa: S101 - set in _User() until now
        user.ready.set()
        user.ready = None
        if not user.sinks:  # every sink left while we loaded
            self._drop(user)

    def _drop(self, user: _User) -> None:
        if self._users.pop(user.user_id, None) is user:
            self._on_presence(user.user_id, False)
        for chat_id in user.chats:
            members = self._chat_users.get(chat_id)
            if members is not None:
                members.discard(user)
                if not members:
                    del self._chat_users[chat_id]
        if user.ready is not None:
            user.ready.set()

    def detach(self, sink: Sink) -> None:
        user = self._users.get(sink.user_id)
        if user is None:
            return
        user.sinks.discard(sink)
        if not user.sinks and user.ready is None:
            self._drop(user)

    @staticmethod
    def _apply_membership(user: _User, event: Event) -> None:
        chat_id = _membership_chat(event)
        if user.user_id in event.joined:
            user.chats.add(chat_id)
        if user.user_id in event.left:
            user.chats.discard(chat_id)

    # -- dispatch (called by the bus, in position order) ----------------------------------

    def dispatch(self, events: list[Event]) -> None:
        for event in events:
            self.dispatched = max(self.dispatched, event.pos)
            if event.user_id is not None:
                self._deliver_to_user(event)
            elif event.chat_id is not None:
                self._deliver_to_chat(event)

    def _deliver_to_user(self, event: Event) -> None:
        # A channel's membership events go to the member alone (and its admins), so the
        # member's own copy is what lets them in or out of the chat's routing.
        for user_id in event.joined:
            self._route(user_id, event, _membership_chat(event), add=True)
        user = self._users.get(event.user_id or 0)
        if user is not None and user.ready is None:
            for sink in tuple(user.sinks):
                sink.push(event)
                self.delivered += 1
        for user_id in event.left:
            self._route(user_id, event, _membership_chat(event), add=False)

    def _deliver_to_chat(self, event: Event) -> None:
        chat_id = event.chat_id
        assert chat_id is not None  # noqa: S101 - checked by dispatch
        for user_id in event.joined:
            self._route(user_id, event, chat_id, add=True)
        for user in tuple(self._chat_users.get(chat_id, ())):
            for sink in tuple(user.sinks):
                sink.push(event)
                self.delivered += 1
        for user_id in event.left:
            self._route(user_id, event, chat_id, add=False)

    def _route(self, user_id: int, event: Event, chat_id: int, *, add: bool) -> None:
        user = self._users.get(user_id)
        if user is None:
            return
        if user.held is not None:
            user.held.append(event)
            return
        if add:
            user.chats.add(chat_id)
            self._chat_users.setdefault(chat_id, set()).add(user)
        else:
            user.chats.discard(chat_id)
            members = self._chat_users.get(chat_id)
            if members is not None:
                members.discard(user)
                if not members:
                    del self._chat_users[chat_id]

    def dispatch_ephemeral(self, notice: Ephemeral) -> None:
        for user in tuple(self._chat_users.get(notice.chat_id, ())):
            if user.user_id == notice.sender_id:
                continue
            for sink in tuple(user.sinks):
                sink.push_ephemeral(notice)


def _no_presence(_user_id: int, _online: bool) -> None:
    return None


def _membership_chat(event: Event) -> int:
    """The chat an event's `joined` / `left` refer to: its scope, or for an event scoped to
    one user the `chat_id` in its body."""
    return event.chat_id if event.chat_id is not None else int(event.body["chat_id"])
