"""One suite for every bus: in memory, and Redis when DARBUKA_TEST_REDIS_URL is set."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from darbuka.bus import Bus, Handlers, MemoryBus, Stored
from darbuka.bus.redis import RedisBus
from darbuka.bus.sequencer import PAGE, Sequencer
from darbuka.stream import Ephemeral, Event
from tests.conftest import make_server
from tests.helpers import Socket
from tests.redis_server import RedisServer, needs_redis_server

REDIS_URL = os.environ.get("DARBUKA_TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="DARBUKA_TEST_REDIS_URL is not set")


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.notices: list[Ephemeral] = []
        self.changed = asyncio.Event()

    def handlers(self) -> Handlers:
        def on_events(events: list[Event]) -> None:
            self.events += events
            self.changed.set()

        def on_notice(notice: Ephemeral) -> None:
            self.notices.append(notice)
            self.changed.set()

        return Handlers(events=on_events, ephemeral=on_notice)

    @property
    def positions(self) -> list[int]:
        return [e.pos for e in self.events]

    async def wait_for(self, check: Callable[[], bool]) -> None:
        async with asyncio.timeout(5):
            while not check():
                self.changed.clear()
                await self.changed.wait()


def event(pos: int, **extra: Any) -> Event:
    return Event(pos=pos, type="message.new", body={"message": {"id": pos, "text": f"m{pos}"}},
                 chat_id=1, **extra)


class FakeStream:
    """The database's side of the stream, as the composition root hands it to a bus: what
    was "committed" here is read back as storage would give it (no origin)."""

    def __init__(self) -> None:
        self.stored: dict[int, Event] = {}
        self.head = 0
        self.fetches: list[tuple[int, int]] = []
        self.failing = False

    def commit(self, *events: Event) -> list[Event]:
        for e in events:
            self.stored[e.pos] = e
            self.head = max(self.head, e.pos)
        return list(events)

    async def fetch(self, after: int, upto: int) -> Stored:
        if self.failing:
            raise OSError("the database is away")
        self.fetches.append((after, upto))
        found = [self.stored[p] for p in range(after + 1, min(upto, self.head) + 1)
                 if p in self.stored]
        return Stored(self.head, [Event.from_stored(e.pos, e.stored_payload(),
                                                    e.stored_routing(), chat_id=e.chat_id,
                                                    user_id=e.user_id) for e in found])


@pytest.fixture(params=["memory", pytest.param("redis", marks=needs_redis)])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], Bus]]:
    prefix = f"test-{uuid.uuid4().hex[:8]}"  # each test has channels of its own
    made: list[Bus] = []
    shared = MemoryBus()
    stream = FakeStream()

    def make() -> Bus:
        bus: Bus = shared if request.param == "memory" else RedisBus(
            REDIS_URL, prefix=prefix, fetch=stream.fetch, gap_grace_s=0.5)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.stop()


async def test_events_arrive_whole_and_in_order(make_bus: Callable[[], Bus]) -> None:
    bus, recorder = make_bus(), Recorder()
    bus.subscribe(recorder.handlers())
    await bus.start()
    bus.publish([event(1, joined=(5,), origin="k:1"), event(2)])
    bus.publish([event(3, left=(5,))])
    await recorder.wait_for(lambda: len(recorder.events) == 3)
    assert [e.pos for e in recorder.events] == [1, 2, 3]
    first = recorder.events[0]
    assert first.joined == (5,)
    assert first.origin == "k:1"
    assert first.body == {"message": {"id": 1, "text": "m1"}}
    assert recorder.events[2].left == (5,)
    # Nothing was lost or late on the way: the numbers readiness and metrics read say so.
    assert (bus.reconnects, bus.gap_fills, bus.lag_s) == (0, 0, 0.0)


async def test_ephemeral_notices_are_delivered(make_bus: Callable[[], Bus]) -> None:
    bus, recorder = make_bus(), Recorder()
    bus.subscribe(recorder.handlers())
    await bus.start()
    bus.publish_ephemeral(Ephemeral(chat_id=4, sender_id=2, frame=b'{"type":"typing"}'))
    await recorder.wait_for(lambda: len(recorder.notices) == 1)
    assert recorder.notices[0] == Ephemeral(4, 2, b'{"type":"typing"}')


@needs_redis
async def test_redis_delivers_in_position_order_across_publishers() -> None:
    prefix, stream = f"test-{uuid.uuid4().hex[:8]}", FakeStream()
    stream.head = 9
    one, two, listener = (RedisBus(REDIS_URL, prefix=prefix, fetch=stream.fetch)
                          for _ in range(3))
    recorder = Recorder()
    listener.subscribe(recorder.handlers())
    for bus in (listener, one, two):
        await bus.start()
    try:
        one.publish(stream.commit(event(10)))
        await recorder.wait_for(lambda: len(recorder.events) == 1)
        # Process two committed 12 after process one's 11, but published first.
        stream.commit(event(11))
        two.publish(stream.commit(event(12)))
        await asyncio.sleep(0.05)
        assert [e.pos for e in recorder.events] == [10]
        one.publish([stream.stored[11]])
        await recorder.wait_for(lambda: len(recorder.events) == 3)
        assert [e.pos for e in recorder.events] == [10, 11, 12]
        assert listener.gap_fills == 0, "11 came in its grace: no need to read it"
    finally:
        for bus in (listener, one, two):
            await bus.stop()


@needs_redis
async def test_redis_fills_a_gap_whose_publisher_died_from_the_database() -> None:
    prefix, stream = f"test-{uuid.uuid4().hex[:8]}", FakeStream()
    publisher = RedisBus(REDIS_URL, prefix=prefix, fetch=stream.fetch)
    listener = RedisBus(REDIS_URL, prefix=prefix, fetch=stream.fetch, gap_grace_s=0.05)
    recorder = Recorder()
    listener.subscribe(recorder.handlers())
    await listener.start()
    await publisher.start()
    try:
        publisher.publish(stream.commit(event(1)))
        # 2 was committed by a process that died before publishing: it lets user 5 in.
        stream.commit(event(2, joined=(5,)))
        publisher.publish(stream.commit(event(3)))
        await recorder.wait_for(lambda: len(recorder.events) == 3)
        assert [e.pos for e in recorder.events] == [1, 2, 3]
        filled = recorder.events[1]
        assert filled.body == {"message": {"id": 2, "text": "m2"}}
        assert filled.joined == (5,), "routed as it was published"
        assert listener.gap_fills == 1
        assert listener.lag_s == 0.0
    finally:
        await publisher.stop()
        await listener.stop()


@needs_redis
async def test_redis_finds_the_last_event_of_a_dead_publisher_by_the_head() -> None:
    """Nothing after it would show the gap: the database's head does."""
    prefix, stream = f"test-{uuid.uuid4().hex[:8]}", FakeStream()
    listener = RedisBus(REDIS_URL, prefix=prefix, fetch=stream.fetch, gap_grace_s=0.05,
                        poll_s=0.1)
    recorder = Recorder()
    listener.subscribe(recorder.handlers())
    await listener.start()
    try:
        stream.commit(event(1), event(2))  # committed, never published
        await recorder.wait_for(lambda: len(recorder.events) == 2)
        assert [e.pos for e in recorder.events] == [1, 2]
        assert listener.gap_fills == 2
    finally:
        await listener.stop()


@needs_redis
async def test_redis_sends_what_was_published_before_it_stopped() -> None:
    """An admin command publishes its events and stops at once: they still go out."""
    prefix, stream = f"test-{uuid.uuid4().hex[:8]}", FakeStream()
    publisher = RedisBus(REDIS_URL, prefix=prefix, fetch=stream.fetch)
    # Its head poll would find the event too: make it too slow to, so Redis must bring it.
    listener = RedisBus(REDIS_URL, prefix=prefix, fetch=stream.fetch, poll_s=3600)
    recorder = Recorder()
    listener.subscribe(recorder.handlers())
    await listener.start()
    await publisher.start()
    try:
        publisher.publish(stream.commit(event(1)))
        await publisher.stop()
        await recorder.wait_for(lambda: len(recorder.events) == 1)
        assert listener.gap_fills == 0
    finally:
        await listener.stop()


@needs_redis_server
async def test_redis_killed_and_restarted_loses_no_event(tmp_path: Path) -> None:
    """The subscriber outlives redis-py's retries, reconnects, and reads what was published
    while Redis was away from the database; the publisher holds what it could not send."""
    redis_server = RedisServer(tmp_path / "redis")
    prefix, stream = f"test-{uuid.uuid4().hex[:8]}", FakeStream()
    publisher = RedisBus(redis_server.url, prefix=prefix, fetch=stream.fetch)
    # No head polls: what the listener gets it gets from Redis or from its reconnect.
    listener = RedisBus(redis_server.url, prefix=prefix, fetch=stream.fetch, poll_s=3600)
    recorder, own = Recorder(), Recorder()
    listener.subscribe(recorder.handlers())
    publisher.subscribe(own.handlers())
    await listener.start()
    await publisher.start()
    try:
        publisher.publish(stream.commit(event(1)))
        await recorder.wait_for(lambda: len(recorder.events) == 1)
        redis_server.kill()
        for pos in range(2, 6):  # committed while Redis is down
            publisher.publish(stream.commit(event(pos)))
        await own.wait_for(lambda: len(own.events) == 5)  # its own sinks never wait on Redis
        await asyncio.sleep(0.5)  # the subscriber meets the dead link and backs off
        redis_server.start()
        await recorder.wait_for(lambda: len(recorder.events) == 5)
        assert listener.reconnects == 1
        assert listener.gap_fills >= 1
        # Redis carries the events again.
        publisher.publish(stream.commit(event(6)))
        await recorder.wait_for(lambda: len(recorder.events) == 6)
        assert [e.pos for e in recorder.events] == [1, 2, 3, 4, 5, 6]
        assert [e.pos for e in own.events] == [1, 2, 3, 4, 5, 6]
    finally:
        await publisher.stop()
        await listener.stop()
        redis_server.kill()


@needs_redis_server
async def test_redis_bus_starts_and_delivers_before_redis_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process started while Redis is down serves anyway: its own events and the others'
    (from the database) reach its sinks, and what it could not publish waits, bounded."""
    import darbuka.bus.redis as redis_bus

    monkeypatch.setattr(redis_bus, "START_WAIT_S", 0.2)
    monkeypatch.setattr(redis_bus, "OUTBOX_MAX", 3)
    redis_server = RedisServer(tmp_path / "redis")
    redis_server.kill()  # its port, with nothing behind it yet
    stream = FakeStream()
    bus = RedisBus(redis_server.url, prefix="down", fetch=stream.fetch, poll_s=0.05)
    recorder = Recorder()
    bus.subscribe(recorder.handlers())
    await bus.start()
    try:
        for pos in (1, 2, 3, 4):
            bus.publish(stream.commit(event(pos)))
        stream.commit(event(5))  # another process's
        await recorder.wait_for(lambda: len(recorder.events) == 5)
        assert recorder.positions == [1, 2, 3, 4, 5]
        assert bus.dropped == 1, "the oldest publish went; the database has it"
        redis_server.start()
        other = RedisBus(redis_server.url, prefix="down", fetch=stream.fetch)
        await other.start()
        other.publish(stream.commit(event(6)))
        await recorder.wait_for(lambda: len(recorder.events) == 6)
        await other.stop()
        assert bus.reconnects == 0, "the first subscription is no reconnect"
    finally:
        await bus.stop()
        redis_server.kill()


# -- the reorder and fill logic alone (no Redis) -------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def sequencer(stream: FakeStream, head: int = 0) -> tuple[Sequencer, Recorder, Clock]:
    recorder, clock = Recorder(), Clock()
    seq = Sequencer(recorder.handlers().events, stream.fetch, grace_s=0.5, now=clock)
    seq.start_at(head)
    return seq, recorder, clock


async def test_sequencer_holds_an_early_arrival_until_the_gap_closes() -> None:
    stream = FakeStream()
    seq, delivered, clock = sequencer(stream)
    seq.offer([event(1)])
    seq.offer([event(3), event(4)])
    assert delivered.positions == [1]
    clock.t += 0.2
    assert seq.lag_s == pytest.approx(0.2)
    assert not seq.due()
    seq.offer([event(2)])
    assert delivered.positions == [1, 2, 3, 4]
    assert (seq.lag_s, seq.gap_fills, stream.fetches) == (0.0, 0, [])


async def test_sequencer_fills_a_gap_past_its_grace_from_the_database() -> None:
    stream = FakeStream()
    seq, delivered, clock = sequencer(stream)
    stream.commit(*(event(p) for p in range(1, 6)))
    seq.offer([event(1), event(4)])
    clock.t += 0.6
    assert seq.due()
    assert await seq.fill()
    assert delivered.positions == [1, 2, 3, 4], "4 waits in order behind the filled 2 and 3"
    assert seq.gap_fills == 2
    assert stream.fetches == [(1, 4)]
    # Their bus copies come late: delivered once.
    seq.offer([event(2), event(3), event(4), event(5)])
    assert delivered.positions == [1, 2, 3, 4, 5]


async def test_sequencer_never_skips_what_the_database_does_not_show_yet() -> None:
    stream = FakeStream()
    seq, delivered, clock = sequencer(stream)
    stream.commit(event(1))
    seq.offer([event(1), event(3)])
    clock.t += 1.0
    assert not await seq.fill(), "the database's head is still 1: wait, do not skip"
    assert delivered.positions == [1]
    clock.t += 1.0
    assert seq.lag_s == pytest.approx(2.0)
    stream.commit(event(2), event(3))
    assert await seq.fill()
    assert delivered.positions == [1, 2, 3]
    assert seq.lag_s == 0.0


async def test_sequencer_passes_positions_the_database_never_kept() -> None:
    stream = FakeStream()
    seq, delivered, clock = sequencer(stream)
    stream.commit(event(1), event(4))
    stream.head = 4  # 2 and 3 were pruned
    seq.offer([event(1), event(4)])
    clock.t += 1.0
    assert await seq.fill()
    assert delivered.positions == [1, 4]
    assert (seq.absent, seq.gap_fills) == (2, 0)


async def test_sequencer_delivers_nothing_from_before_its_start() -> None:
    stream = FakeStream()
    seq, delivered, _ = sequencer(stream, head=10)
    seq.offer([event(9), event(10), event(11), event(11)])
    assert delivered.positions == [11]


async def test_sequencer_dates_each_gap_from_when_it_was_seen() -> None:
    stream = FakeStream()
    seq, delivered, clock = sequencer(stream)
    seq.offer([event(2)])
    clock.t += 0.4
    seq.offer([event(4)])
    clock.t += 0.3
    assert seq.lag_s == pytest.approx(0.7)
    seq.offer([event(1)])
    assert delivered.positions == [1, 2]
    # The hole at 3 has been known since 4 came, 0.3 s ago: not yet past its grace.
    assert seq.lag_s == pytest.approx(0.3)
    assert not seq.due()


async def test_sequencer_catches_up_a_long_outage_in_pages() -> None:
    stream = FakeStream()
    seq, delivered, _ = sequencer(stream)
    total = PAGE * 2 + 7
    stream.commit(*(event(p) for p in range(1, total + 1)))
    seq.catch_up()
    task = asyncio.get_running_loop().create_task(seq.watch(poll_s=3600))
    try:
        await delivered.wait_for(lambda: len(delivered.events) == total)
    finally:
        task.cancel()
    assert delivered.positions == list(range(1, total + 1))
    assert seq.gap_fills == total
    assert all(upto - after <= PAGE for after, upto in stream.fetches)


async def test_sequencer_keeps_trying_a_failing_database() -> None:
    stream = FakeStream()
    seq, delivered, clock = sequencer(stream)
    stream.commit(event(1), event(2))
    stream.failing = True
    seq.offer([event(2)])
    clock.t += 1.0
    task = asyncio.get_running_loop().create_task(seq.watch(poll_s=0.01))
    try:
        await asyncio.sleep(0.1)
        assert delivered.positions == []
        stream.failing = False
        await delivered.wait_for(lambda: delivered.positions == [1, 2])
    finally:
        task.cancel()


@needs_redis
def test_two_server_processes_share_live_events(pg_url: str, tmp_path: Path) -> None:
    """A message sent through one server reaches a socket on another (PostgreSQL + Redis)."""
    from tests.conftest import _pg_admin

    asyncio.run(_pg_admin(pg_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    shared = {"redis_url": REDIS_URL, "redis_prefix": f"test-{uuid.uuid4().hex[:8]}",
              "secret_key": "shared-secret"}
    first = make_server(pg_url, tmp_path / "a", **shared)
    second = make_server(pg_url, tmp_path / "b", **shared)
    try:
        alice = first.sign_up("Alice")
        bob = second.sign_up("Bob")
        chat = alice.direct(bob)
        listener = Socket(second.ws_url, bob.token or "", cursor=bob.sync()["cursor"])
        listener.ready()
        sent = alice.send(chat["id"], "across processes")
        got = listener.recv_until(lambda f: f["type"] == "message.new")
        assert got["message"]["id"] == sent["id"]
        listener.close()
    finally:
        first.thread.stop()
        second.thread.stop()


async def test_a_fresh_bus_reports_no_reconnects_gaps_or_lag(
        make_bus: Callable[[], Bus]) -> None:
    bus = make_bus()
    await bus.start()
    assert (bus.reconnects, bus.gap_fills, bus.lag_s) == (0, 0, 0.0)
