"""The job queue: queued once per key, run once, retried, given up on, taken over from a
runner that died, never run by two runners at once (on SQLite and PostgreSQL).

Two runners here are two `Database`s and writers, as two processes have; the test with real
processes killed mid-job is in test_jobs_processes.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import update

from darbuka.clock import SystemClock
from darbuka.services.jobs import JobKind, JobRunner, Periodic, RetryLater
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.migrate import migrate
from darbuka.storage.tables.jobs import jobs

Payload = dict[str, Any]


@asynccontextmanager
async def _process(url: str) -> AsyncIterator[tuple[Database, Writer]]:
    """What one process has: its own database engine and writer."""
    db = Database(url)
    writer = Writer(db, Stores(), SystemClock(), lambda _events: None)
    writer.start()
    try:
        yield db, writer
    finally:
        await writer.stop()
        await db.dispose()


@asynccontextmanager
async def _runner(url: str, *kinds: JobKind, periodic: tuple[Periodic, ...] = (),
                  lease_s: float = 30.0) -> AsyncIterator[JobRunner]:
    async with _process(url) as (db, writer):
        runner = JobRunner(db, Stores(), writer, kinds=kinds, periodic=periodic,
                           lease_s=lease_s, poll_s=0.05)
        writer.on_jobs = runner.wake
        await runner.start()
        try:
            yield runner
        finally:
            await runner.stop()


async def _queue(writer: Writer, kind: str, key: str, payload: Payload | None = None) -> bool:
    async def queue(tx: Tx) -> bool:
        return await tx.queue_job(kind, key, payload or {})

    return await writer.run(queue)


async def _rows(url: str) -> list[dict[str, Any]]:
    async with _process(url) as (db, _writer), db.read() as conn:
        return [dict(r._mapping) for r in await conn.execute(jobs.select())]


async def _eventually(check: Callable[[], Awaitable[bool] | bool], within_s: float = 10,
                      ) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


@pytest.fixture
def url(database_url: str) -> str:
    async def schema() -> None:
        db = Database(database_url)
        await migrate(db)
        await db.dispose()

    asyncio.run(schema())
    return database_url


def test_a_job_runs_once_and_a_second_queueing_of_its_key_adds_nothing(url: str) -> None:
    ran: list[Payload] = []

    async def record(payload: Payload) -> None:
        ran.append(payload)

    async def main() -> None:
        async with _runner(url, JobKind("t.record", record)) as runner:
            async with _process(url) as (_db, writer):
                # Queued in one transaction twice: the second is absorbed.
                async def twice(tx: Tx) -> list[bool]:
                    return [await tx.queue_job("t.record", "k", {"n": 1}),
                            await tx.queue_job("t.record", "k", {"n": 2})]

                assert await writer.run(twice) == [True, False]
            await _eventually(lambda: runner.finished == 1)
            await asyncio.sleep(0.2)  # polls enough to see a second run, were there one
        assert ran == [{"n": 1}]
        assert await _rows(url) == []  # a finished job leaves no row

    asyncio.run(main())


def test_a_failing_job_is_retried_then_given_up_and_can_be_queued_again(url: str) -> None:
    tries: list[int] = []
    given_up: list[tuple[Payload, str]] = []

    async def fail(_payload: Payload) -> None:
        tries.append(1)
        raise ValueError(f"broken {len(tries)}")

    async def note(payload: Payload, error: str) -> None:
        given_up.append((payload, error))

    kind = JobKind("t.fail", fail, max_attempts=3, retry_base_s=0.01, retry_max_s=0.02,
                   give_up=note)

    async def main() -> None:
        async with _runner(url, kind) as runner:
            await _queue(runner._writer, "t.fail", "f", {"x": 1})
            await _eventually(lambda: runner.given_up == 1)
            assert runner.retried == 2
        assert len(tries) == 3
        assert given_up == [({"x": 1}, "ValueError: broken 3")]
        [row] = await _rows(url)
        assert (row["state"], row["attempts"], row["last_error"]) == \
            ("failed", 3, "ValueError: broken 3")
        # A failed job's key still absorbs a new queueing (an operator retries it instead).
        async with _process(url) as (_db, writer):
            assert not await _queue(writer, "t.fail", "f")

            async def retry(tx: Tx) -> int:
                return await tx.stores.jobs.retry_failed(tx.conn, now=tx.now)

            assert await writer.run(retry) == 1
        [row] = await _rows(url)
        assert (row["state"], row["attempts"]) == ("queued", 0)

    asyncio.run(main())


def test_waiting_for_a_store_does_not_use_up_attempts(url: str) -> None:
    tries: list[int] = []

    async def flaky(_payload: Payload) -> None:
        tries.append(1)
        if len(tries) < 4:
            raise RetryLater(0.01, "the store does not answer")

    async def main() -> None:
        async with _runner(url, JobKind("t.wait", flaky, max_attempts=1)) as runner:
            await _queue(runner._writer, "t.wait", "w")
            await _eventually(lambda: runner.finished == 1)
            assert runner.given_up == 0
        assert len(tries) == 4

    asyncio.run(main())


def test_the_job_of_a_runner_that_died_is_taken_over_once_its_lease_runs_out(url: str,
                                                                             ) -> None:
    started: list[str] = []
    finished: list[str] = []
    hang = asyncio.Event()

    def kind(name: str, *, block: bool) -> JobKind:
        async def work(_payload: Payload) -> None:
            started.append(name)
            if block:
                await hang.wait()  # never set: this runner "dies" mid-job
            finished.append(name)

        return JobKind("t.work", work)

    async def main() -> None:
        async with _runner(url, kind("first", block=True), lease_s=0.6) as first:
            await _queue(first._writer, "t.work", "job")
            await _eventually(lambda: started == ["first"])
            # Death, not a stop: its tasks end without a word to the database.
            for task in [*first._tasks, *(t for _, t in first._running.values())]:
                task.cancel()
            await asyncio.sleep(0.05)
            [row] = await _rows(url)
            assert row["state"] == "running"
            assert row["leased_by"] == first.taker
            async with _runner(url, kind("second", block=False), lease_s=0.6) as second:
                await _eventually(lambda: second.finished == 1)
        assert started == ["first", "second"]
        assert finished == ["second"]
        assert await _rows(url) == []

    asyncio.run(main())


def test_a_job_longer_than_its_lease_keeps_it_and_runs_in_one_runner(url: str) -> None:
    runs: list[int] = []

    async def slow(_payload: Payload) -> None:
        runs.append(1)
        await asyncio.sleep(3.0)  # three leases: renewed all along

    async def main() -> None:
        kind = JobKind("t.slow", slow)
        # A lease long enough that a loaded machine's stalls never cost one.
        async with _runner(url, kind, lease_s=1.0) as one, \
                _runner(url, kind, lease_s=1.0) as two:
            await _queue(one._writer, "t.slow", "s")
            await _eventually(lambda: one.finished + two.finished == 1)
            await asyncio.sleep(0.3)
        assert runs == [1]

    asyncio.run(main())


def test_a_runner_overtaken_past_its_lease_stops_its_copy_of_the_job(url: str) -> None:
    cancelled: list[bool] = []

    async def long(_payload: Payload) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        async with _runner(url, JobKind("t.long", long), lease_s=0.3) as runner:
            await _queue(runner._writer, "t.long", "l")
            await _eventually(lambda: bool(runner._running))
            # As if this process stalled and another runner took the job meanwhile.
            async with _process(url) as (db, _writer), db.write() as conn:
                await conn.execute(update(jobs).values(leased_by="another-runner"))
            await _eventually(lambda: cancelled == [True])
            await _eventually(lambda: not runner._running)
        # The other runner's hold is untouched.
        [row] = await _rows(url)
        assert row["leased_by"] == "another-runner"

    asyncio.run(main())


def test_a_stopped_runner_puts_its_jobs_back_for_the_next_at_once(url: str) -> None:
    started: list[str] = []

    def kind(name: str) -> JobKind:
        async def work(_payload: Payload) -> None:
            started.append(name)
            if name == "first":
                await asyncio.sleep(30)

        return JobKind("t.stop", work, max_attempts=1)

    async def main() -> None:
        async with _runner(url, kind("first")) as first:
            await _queue(first._writer, "t.stop", "j")
            await _eventually(lambda: started == ["first"])
        [row] = await _rows(url)
        # Queued again, not counted: the stop was not the job's failure.
        assert (row["state"], row["attempts"], row["leased_by"]) == ("queued", 0, None)
        async with _runner(url, kind("second")) as second:  # lease 30 s: no waiting for it
            await _eventually(lambda: second.finished == 1, within_s=5)
        assert started == ["first", "second"]

    asyncio.run(main())


def test_periodic_work_runs_again_and_again_but_never_in_two_runners_at_once(url: str,
                                                                            ) -> None:
    active: list[int] = [0]
    most: list[int] = [0]
    runs: list[int] = []

    async def sweep() -> None:
        active[0] += 1
        most[0] = max(most[0], active[0])
        runs.append(1)
        await asyncio.sleep(0.05)
        active[0] -= 1

    every = Periodic("t-sweep", 0.05, sweep, first_after_s=0)

    async def main() -> None:
        async with _runner(url, periodic=(every,), lease_s=2.0), \
                _runner(url, periodic=(every,), lease_s=2.0):
            await _eventually(lambda: len(runs) >= 8, within_s=15)
        rows = await _rows(url)
        assert [(r["key"], r["state"], r["attempts"]) for r in rows] == \
            [("every.t-sweep", "queued", 0)]

    asyncio.run(main())
    assert most[0] == 1


def test_a_job_that_must_go_on_is_queued_again_instead_of_ending(url: str) -> None:
    """`still_needed` is asked in the finishing transaction: a bot that subscribed again
    while its delivery job was ending gets its delivery."""
    runs: list[int] = []
    wanted = [True]

    async def work(_payload: Payload) -> None:
        runs.append(1)

    async def still(_conn: Any, _payload: Payload) -> bool:
        again, wanted[0] = wanted[0], False
        return again

    async def main() -> None:
        async with _runner(url, JobKind("t.again", work, still_needed=still)) as runner:
            await _queue(runner._writer, "t.again", "a")
            await _eventually(lambda: runner.finished == 2)
        assert runs == [1, 1]
        assert await _rows(url) == []

    asyncio.run(main())


def test_uploads_left_processing_before_jobs_existed_get_their_jobs(database_url: str,
                                                                    ) -> None:
    """Migration 0014: what a stopped server left processing (it used to resume it at
    start) now has a job; finished uploads get none."""
    import sqlalchemy as sa
    from alembic import command

    from darbuka.storage.migrate import alembic_config

    async def run() -> list[tuple[object, ...]]:
        db = Database(database_url)
        try:
            def steps(conn: sa.Connection) -> list[tuple[object, ...]]:
                command.upgrade(alembic_config(conn), "0013")
                for media_id, state in (("half", "processing"), ("done", "ready")):
                    conn.execute(sa.text(
                        "INSERT INTO media (id, kind, state, length, created_at) "
                        "VALUES (:id, 'photo', :state, 10, 1)"), {"id": media_id,
                                                                 "state": state})
                command.upgrade(alembic_config(conn), "head")
                return [tuple(r) for r in conn.execute(sa.text(
                    "SELECT kind, key, payload, state FROM jobs"))]

            return await db.run_sync(steps)
        finally:
            await db.dispose()

    assert asyncio.run(run()) == [("media.process", "media:half", '{"media_id": "half"}',
                                   "queued")]
