"""Live events in position order, each once, none ever skipped: the bus is a speed-up, the
database is the truth.

Positions are handed out in commit order, but processes publish independently: a later
position can reach a subscriber first, and one may never come at all (its publisher died
between COMMIT and PUBLISH, or Redis was down). An early arrival waits `grace_s` for the
positions before it; a gap older than that is read from the database and delivered in its
place. Two things show gaps that no later arrival would: the database's head, polled now
and then (the last event of a process that died), and a reconnect, after which everything
missed is read at once (`catch_up`).

The database's contract (`bus.base.Stored`): positions become visible in order, so every
position up to the head it reports is either stored or never will be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from darbuka.backoff import Backoff
from darbuka.bus.base import FetchEvents
from darbuka.stream import Event

__all__ = ["PAGE", "Sequencer"]

log = logging.getLogger(__name__)
# Positions read from the database in one query.
PAGE = 500
# The longest wait between two tries of a database that fails or does not show a gap yet.
RETRY_CAP_S = 5.0


class Sequencer:
    def __init__(self, deliver: Callable[[list[Event]], None], fetch: FetchEvents, *,
                 grace_s: float, now: Callable[[], float] = time.monotonic) -> None:
        self._deliver = deliver
        self._fetch = fetch
        self._grace_s = grace_s
        self._now = now
        # The next position to deliver (None until `start_at`), and arrivals past it.
        self.next_pos: int | None = None
        self._early: dict[int, Event] = {}
        # Each rise of the highest position known to exist (by arrival or from the
        # database's head) with when it was learnt, oldest first; only those at or past
        # `next_pos` are kept, so the first one dates the oldest gap.
        self._known: deque[tuple[int, float]] = deque()
        self._catch_up = False
        self._wake = asyncio.Event()
        self.gap_fills = 0
        self.absent = 0

    def start_at(self, head: int) -> None:
        """Deliver what comes after `head`: what is before it, clients read from storage."""
        if self.next_pos is None:
            self.next_pos = head + 1

    def offer(self, events: list[Event]) -> None:
        """Events from the bus (or this process's own, at once), in any order, repeats too."""
        if self.next_pos is None:
            return
        highest = 0
        for event in events:
            if event.pos >= self.next_pos and event.pos not in self._early:
                self._early[event.pos] = event
                highest = max(highest, event.pos)
        self._release()
        if highest >= self.next_pos:  # it came early: the gap before it dates from now
            self._learn(highest, self._now())

    def catch_up(self) -> None:
        """Read everything up to the database's head now (after a reconnect: the bus may
        have lost what was published meanwhile)."""
        self._catch_up = True
        self._wake.set()

    @property
    def lag_s(self) -> float:
        return self._now() - self._known[0][1] if self._known else 0.0

    def due(self) -> bool:
        """A gap has waited its grace: the bus is not bringing it."""
        return bool(self._known) and self._now() - self._known[0][1] >= self._grace_s

    async def fill(self) -> bool:
        """Read every position up to the highest known to exist from the database and deliver
        it in order; False when the database showed nothing new (not visible yet)."""
        assert self.next_pos is not None  # noqa: S101 - started before any fill
        target, progressed = self._known_head(), False
        while self.next_pos <= target:
            after = self.next_pos - 1
            upto = min(target, after + PAGE)
            stored = await self._fetch(after, upto)
            self._learn(stored.head, self._now())
            taken = [e for e in stored.events
                     if e.pos >= self.next_pos and e.pos not in self._early]
            for event in taken:
                self._early[event.pos] = event
            if taken:
                self.gap_fills += len(taken)
                log.info("read %d live events the bus did not bring from the database (%d in "
                         "all)", len(taken), self.gap_fills)
            before = self.next_pos
            self._release(decided=min(upto, stored.head))
            if self.next_pos == before:
                return progressed
            progressed = True
        return progressed

    async def watch(self, poll_s: float) -> None:
        """Poll the database's head every `poll_s`, fill gaps that outlived their grace, catch
        up when asked; forever, retrying a failing database with backoff."""
        backoff = Backoff(base=self._grace_s, cap=RETRY_CAP_S)
        polled = -poll_s
        while True:
            self._wake.clear()
            try:
                urgent = self._catch_up
                if urgent or self._now() - polled >= poll_s:
                    polled = self._now()
                    await self._poll_head()
                    self._catch_up = False
                if (urgent or self.due()) and not await self.fill() and self.due():
                    raise LookupError("the database does not show the missing events yet")
                backoff.reset()
            except Exception as exc:  # the database is down or behind: try again later
                log.warning("filling live events from the database failed (%s); retrying", exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            await self._sleep(polled + poll_s)

    async def _poll_head(self) -> None:
        assert self.next_pos is not None  # noqa: S101 - started before watching
        stored = await self._fetch(self.next_pos - 1, self.next_pos - 1)
        self._learn(stored.head, self._now())

    async def _sleep(self, poll_at: float) -> None:
        wake_at = poll_at
        if self._known:
            wake_at = min(wake_at, self._known[0][1] + self._grace_s)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, wake_at - self._now())):
                await self._wake.wait()

    def _known_head(self) -> int:
        assert self.next_pos is not None  # noqa: S101 - started
        return self._known[-1][0] if self._known else self.next_pos - 1

    def _learn(self, pos: int, now: float) -> None:
        if pos > self._known_head():
            gap_opens = not self._known
            self._known.append((pos, now))
            if gap_opens:
                self._wake.set()  # the watcher times its grace from now

    def _release(self, decided: int = 0) -> None:
        """Deliver from `next_pos` while the next one is here; pass positions up to `decided`
        that the database does not hold (they will never exist)."""
        assert self.next_pos is not None  # noqa: S101 - started
        ready: list[Event] = []
        passed = 0
        while True:
            event = self._early.pop(self.next_pos, None)
            if event is not None:
                ready.append(event)
            elif self.next_pos <= decided:
                passed += 1
            else:
                break
            self.next_pos += 1
        while self._known and self._known[0][0] < self.next_pos:
            self._known.popleft()
        if passed:
            self.absent += passed
            log.warning("%d positions before %d are not in the database; passing them",
                        passed, self.next_pos)
        if ready:
            try:
                self._deliver(ready)
            except Exception:  # one bad handler must not stop delivery for the rest
                log.exception("delivering live events failed")
