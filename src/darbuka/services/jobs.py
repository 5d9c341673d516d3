"""Background work as jobs in the database: queued in the transaction that makes the work,
taken under a lease, retried with backoff, run once.

A job is a row (`storage/jobs.py`) queued with `Tx.queue_job` in the same transaction as
what needs it — an upload's last byte queues its processing, a webhook subscription its
delivery — so a crash between the two cannot lose one. Any process running a `JobRunner`
(`darbuka serve` unless told not to, `darbuka worker`) takes due jobs of the kinds it knows,
each under a lease it renews while the job runs. A process that dies stops renewing; once
its lease runs out another runner takes the job again, and every write a job makes after
losing its lease changes nothing (each names its taker). So a job runs to its end in exactly
one process at a time, and is retried until it succeeds or is given up on.

Periodic work (sweeps, the legal clocks) is a job per name that puts itself back with its
next time after each run; on PostgreSQL each run also holds an advisory lock, so that a
process paused past its lease (and so overtaken) never runs the same sweep alongside
another.

A runner wakes when its own process queues a job (`Writer.on_jobs`) and polls every
`poll_s` for what other processes queued.

The queue keeps the machines' own time (`QUEUE_CLOCK`), not the application's clock:
leases and retry pauses are the machinery's timing, and a test that moves the
application's clock a day on (to expire a code, run an order's hour out) must not set
every sweep off behind its back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from darbuka.backoff import Backoff
from darbuka.clock import SystemClock
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.jobs import TakenJob

__all__ = ["QUEUE_CLOCK", "JobKind", "JobRunner", "Periodic", "RetryLater"]

log = logging.getLogger(__name__)

Payload = dict[str, Any]
QUEUE_CLOCK = SystemClock()


class RetryLater(Exception):
    """Raised by a job that cannot go on yet (a store does not answer): it is queued again
    after `delay_s`, and this try does not count as one of its attempts."""

    def __init__(self, delay_s: float, why: str) -> None:
        super().__init__(why)
        self.delay_s = delay_s


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    run: Callable[[Payload], Awaitable[None]]
    # How many of this kind one runner runs at once.
    concurrency: int = 4
    # Tries before it is given up on (None: never; a long-lived job retries forever).
    max_attempts: int | None = 5
    retry_base_s: float = 1.0
    retry_max_s: float = 300.0
    # Told the payload and the last error when the job is given up on.
    give_up: Callable[[Payload, str], Awaitable[None]] | None = None
    # Asked, in the transaction that would end a finished job, whether it must go on (the
    # work came back meanwhile: a bot subscribed again while its delivery was winding up).
    still_needed: Callable[[Conn, Payload], Awaitable[bool]] | None = None


@dataclass(frozen=True, slots=True)
class Periodic:
    """Work done every `interval_s`, by one process at a time."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[Any]]
    # The first run, this long after the job is first planted (None: one interval).
    first_after_s: float | None = None

    @property
    def kind(self) -> str:
        return f"every.{self.name}"


def _taker() -> str:
    """Who holds a lease: the host and process, and a random part (pids are reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class JobRunner:
    def __init__(self, db: Database, stores: Stores, writer: Writer, *,
                 kinds: Sequence[JobKind], periodic: Sequence[Periodic] = (),
                 lease_s: float = 30.0, poll_s: float = 1.0) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._kinds = {k.name: k for k in kinds}
        self._periodic = {p.kind: p for p in periodic}
        for p in periodic:
            self._kinds[p.kind] = JobKind(p.kind, self._periodic_run(p), concurrency=1,
                                          max_attempts=None)
        self._lease_ms = int(lease_s * 1000)
        self._poll_s = poll_s
        self.taker = _taker()
        self._running: dict[int, tuple[str, asyncio.Task[None]]] = {}
        # Jobs whose lease another runner took over: their tasks were cancelled for it.
        self._lost: set[int] = set()
        self._stopping = False
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        # Outcomes since start (metrics and tests): finished, retried, given up.
        self.finished = 0
        self.retried = 0
        self.given_up = 0

    @property
    def kinds(self) -> set[str]:
        return set(self._kinds)

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        await self._plant()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._take_loop(), name="jobs-take"),
                       loop.create_task(self._renew_loop(), name="jobs-renew")]

    async def stop(self) -> None:
        """Stop taking; what is running is put back at once, for any runner to take."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        running = [task for _, task in self._running.values()]
        for task in running:
            task.cancel()
        await asyncio.gather(*self._tasks, *running, return_exceptions=True)
        self._tasks = []

    async def idle(self, kind: str, *, poll_s: float = 0.02) -> None:
        """Wait until no job of `kind` is left but failed ones (tests, the benchmark)."""
        while True:
            async with self._db.read() as conn:
                left = await self._stores.jobs.count(conn, kind=kind)
                failed = sum(r["count"] for r in await self._stores.jobs.summary(conn)
                             if r["kind"] == kind and r["state"] == "failed")
            if left == failed:
                return
            await asyncio.sleep(poll_s)

    # -- taking -----------------------------------------------------------------------------

    async def _plant(self) -> None:
        """Make sure each periodic job has its row (the first process to start makes it)."""
        if not self._periodic:
            return

        async def plant(tx: Tx) -> None:
            for p in self._periodic.values():
                first = p.interval_s if p.first_after_s is None else p.first_after_s
                await tx.stores.jobs.add(tx.conn, kind=p.kind, key=p.kind, payload={},
                                         run_at=QUEUE_CLOCK.now_ms() + int(first * 1000),
                                         now=tx.now)

        await self._writer.run(plant)

    async def _take_loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self._take_due()
            except Exception:  # the database may be away for a moment: look again later
                log.exception("taking jobs failed")
                wait = self._poll_s
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _take_due(self) -> float:
        """Take what is due of each kind with room; seconds until something may be due."""
        async with self._db.read() as conn:
            times = await self._stores.jobs.next_times(conn)
        now = QUEUE_CLOCK.now_ms()
        soonest = self._poll_s
        for name, at in times.items():
            kind = self._kinds.get(name)
            room = kind.concurrency - self._busy(name) if kind else 0
            if kind is None or room <= 0:
                continue  # not ours to run, or full: a finishing job wakes the loop
            if at > now:
                soonest = min(soonest, (at - now) / 1000)
                continue
            for job in await self._take(name, room):
                self._begin(kind, job)
        return max(soonest, 0.001)

    async def _take(self, kind: str, limit: int) -> list[TakenJob]:
        async def take(tx: Tx) -> list[TakenJob]:
            now = QUEUE_CLOCK.now_ms()
            return await tx.stores.jobs.take(tx.conn, kind=kind, limit=limit, now=now,
                                             taker=self.taker,
                                             lease_until=now + self._lease_ms)

        return await self._writer.run(take)

    def _busy(self, kind: str) -> int:
        return sum(1 for name, _ in self._running.values() if name == kind)

    def _begin(self, kind: JobKind, job: TakenJob) -> None:
        task = asyncio.get_running_loop().create_task(self._run(kind, job),
                                                      name=f"job-{job['key']}")
        self._running[job["id"]] = (kind.name, task)

    # -- running ----------------------------------------------------------------------------

    async def _run(self, kind: JobKind, job: TakenJob) -> None:
        try:
            if kind.max_attempts is not None and job["attempts"] > kind.max_attempts:
                # Taken again each time its lease ran out: whatever runs it dies of it.
                await self._give_up(kind, job, "its runner stopped during every attempt")
                return
            try:
                await kind.run(job["payload"])
            except asyncio.CancelledError:
                if self._stopping and job["id"] not in self._lost:
                    await asyncio.shield(self._put_back(job, delay_ms=0, error=None,
                                                        uncount=True))
                raise
            except RetryLater as later:
                await self._put_back(job, delay_ms=int(later.delay_s * 1000),
                                     error=str(later) or None, uncount=True)
            except Exception as exc:
                await self._failed(kind, job, exc)
            else:
                await self._finish(kind, job)
        except asyncio.CancelledError:
            raise
        except Exception:  # settling failed (the database went away): the lease runs out
            log.exception("job %s could not be settled; it is taken again later", job["key"])
        finally:
            self._running.pop(job["id"], None)
            self._lost.discard(job["id"])
            self._wake.set()

    async def _finish(self, kind: JobKind, job: TakenJob) -> None:
        async def finish(tx: Tx) -> None:
            if not await tx.stores.jobs.lock(tx.conn, job["id"], taker=self.taker):
                return  # no longer ours
            if kind.still_needed is not None and await kind.still_needed(tx.conn,
                                                                        job["payload"]):
                await tx.stores.jobs.put_back(tx.conn, job["id"], taker=self.taker,
                                              run_at=QUEUE_CLOCK.now_ms(), error=None,
                                              restart=True)
                return
            await tx.stores.jobs.finish(tx.conn, job["id"], taker=self.taker)

        # Settling shares its commit with the other jobs settling at the moment (and with
        # marks, reactions and push records): a busy kind — pushes at hundreds a second —
        # costs one fsync per batch of finished jobs, not one per job.
        await self._writer.run_shared(finish)
        self.finished += 1

    async def _failed(self, kind: JobKind, job: TakenJob, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if kind.max_attempts is not None and job["attempts"] >= kind.max_attempts:
            log.error("job %s failed %d times; giving up: %s", job["key"], job["attempts"],
                      error, exc_info=exc)
            await self._give_up(kind, job, error)
            return
        delay = Backoff(base=kind.retry_base_s,
                        cap=kind.retry_max_s).delay_for(job["attempts"] - 1)
        log.warning("job %s failed (attempt %d); again in %.1f s: %s", job["key"],
                    job["attempts"], delay, error, exc_info=exc)
        await self._put_back(job, delay_ms=int(delay * 1000), error=error)
        self.retried += 1

    async def _give_up(self, kind: JobKind, job: TakenJob, error: str) -> None:
        async def give_up(tx: Tx) -> bool:
            return await tx.stores.jobs.give_up(tx.conn, job["id"], taker=self.taker,
                                                error=error)

        if await self._writer.run(give_up):
            self.given_up += 1
            if kind.give_up is not None:
                await kind.give_up(job["payload"], error)

    async def _put_back(self, job: TakenJob, *, delay_ms: int, error: str | None,
                        uncount: bool = False, restart: bool = False) -> None:
        async def put_back(tx: Tx) -> None:
            await tx.stores.jobs.put_back(tx.conn, job["id"], taker=self.taker,
                                          run_at=QUEUE_CLOCK.now_ms() + delay_ms,
                                          error=error, uncount=uncount, restart=restart)

        await self._writer.run_shared(put_back)

    def _periodic_run(self, p: Periodic) -> Callable[[Payload], Awaitable[None]]:
        async def run(_payload: Payload) -> None:
            try:
                async with self._db.exclusive(f"darbuka.job.{p.kind}") as ours:
                    if ours:
                        await p.run()
                    else:
                        log.info("%s runs in another process; skipped here", p.kind)
            except asyncio.CancelledError:
                raise
            except Exception:  # tried again at its next time, like any sweep
                log.exception("periodic job %s failed", p.kind)
            # Not a retry: its next time, attempts started over.
            raise RetryLater(p.interval_s, "")

        return run

    # -- leases -----------------------------------------------------------------------------

    async def _renew_loop(self) -> None:
        """Every third of a lease, extend all of this runner's leases in one statement;
        a job whose lease another runner took over (this process stalled past it) is
        cancelled here: its work belongs to the other one now."""
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            ids = list(self._running)
            if not ids:
                continue
            try:
                held = await self._renew(ids)
            except Exception:
                log.exception("renewing job leases failed")
                continue
            for job_id in set(ids) - held:
                entry = self._running.get(job_id)
                if entry is not None:
                    log.warning("lost the lease of job %s; stopping it here", job_id)
                    self._lost.add(job_id)
                    entry[1].cancel()

    async def _renew(self, ids: list[int]) -> set[int]:
        async def renew(tx: Tx) -> set[int]:
            return await tx.stores.jobs.renew(tx.conn, ids, taker=self.taker,
                                              lease_until=QUEUE_CLOCK.now_ms() + self._lease_ms)

        return await self._writer.run(renew)
