"""The writer: every state change runs here, one transaction at a time, with group commit.

Why one writer: SQLite takes one writer anyway, and a single queue gives event positions in
commit order for free. Sends that arrive together share one transaction (group commit), so a
burst of 50 sends costs one fsync, not 50. Events are published only after COMMIT returns.
On PostgreSQL each server process has its writer, and positions come from a sequence so
that they do not queue on each other (`storage/stream_head.py` says how readers stay safe).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from darbuka.clock import Clock
from darbuka.errors import ApiError
from darbuka.storage import Conn, Database, Stores
from darbuka.stream import Event

__all__ = ["BatchFn", "Tx", "Writer"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Item = TypeVar("Item")


class Tx:
    """One open write transaction: the connection, the stores, and the events it makes."""

    def __init__(self, conn: Conn, stores: Stores, now: int) -> None:
        self.conn = conn
        self.stores = stores
        self.now = now
        self.events: list[Event] = []
        self.queued_jobs = False

    async def queue_job(self, kind: str, key: str, payload: dict[str, Any], *,
                        delay_ms: int = 0, lock_existing: bool = False) -> bool:
        """Queue background work in this transaction (`services/jobs.py`): it runs after
        COMMIT, or never if this rolls back. A job of the same key not yet done absorbs it
        (False); `lock_existing` makes this transaction wait for, and hold, that job's row
        (so a job winding up sees what this commits: see `JobKind.still_needed`)."""
        self.queued_jobs = True
        # The queue's times are the machines' own (see `services/jobs.py`).
        run_at = time.time_ns() // 1_000_000 + delay_ms
        return await self.stores.jobs.add(self.conn, kind=kind, key=key, payload=payload,
                                          run_at=run_at, now=self.now,
                                          lock_existing=lock_existing)

    async def emit(self, type_: str, body: dict[str, Any], *, chat_id: int | None = None,
                   user_id: int | None = None, joined: Sequence[int] = (),
                   left: Sequence[int] = (), origin: str | None = None) -> Event:
        (pos,) = await self.stores.events.reserve(self.conn, 1)
        event = Event(pos=pos, type=type_, body=body, chat_id=chat_id, user_id=user_id,
                      joined=tuple(joined), left=tuple(left), origin=origin)
        self.events.append(event)
        return event

    async def reserve(self, count: int) -> list[int]:
        """`count` stream positions, ascending (not always consecutive: see
        `EventStore.reserve`)."""
        return await self.stores.events.reserve(self.conn, count)

    async def reserve_one(self) -> int:
        (pos,) = await self.stores.events.reserve(self.conn, 1)
        return pos

    def add(self, event: Event) -> None:
        """Record an event whose position came from `reserve`."""
        self.events.append(event)

    async def flush_events(self) -> None:
        await self.stores.events.append(self.conn, [
            {"pos": e.pos, "chat_id": e.chat_id, "user_id": e.user_id, "type": e.type,
             "payload": e.stored_payload(), "created_at": self.now,
             "routing": e.stored_routing()} for e in self.events])


# A batch function gets all queued items of its kind and returns, per item, a result or the
# ApiError that item alone earned. Raising fails the batch; the writer then retries item by item.
BatchFn = Callable[[Tx, list[Any]], Awaitable[list[Any]]]


@dataclass(slots=True)
class _Single(Generic[T]):
    fn: Callable[[Tx], Awaitable[T]]
    future: asyncio.Future[T]


@dataclass(slots=True)
class _Batched:
    fn: BatchFn
    item: Any
    future: asyncio.Future[Any]


class Writer:
    def __init__(self, db: Database, stores: Stores, clock: Clock,
                 publish: Callable[[list[Event]], None], *, max_batch: int = 512,
                 window_ms: float = 0.0) -> None:
        self._db = db
        self._stores = stores
        self._clock = clock
        self._publish = publish
        self._max_batch = max_batch
        self._window = window_ms / 1000
        self._queue: asyncio.Queue[_Single[Any] | _Batched] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.batched_items = 0
        # Transactions committed, of every kind (tests count what shares one).
        self.commits = 0
        # Told each committed batch's size (the metrics' histogram), when set.
        self.on_batch: Callable[[int], None] | None = None
        # Called after a commit that queued jobs (this process's job runner wakes).
        self.on_jobs: Callable[[], None] | None = None

    @property
    def queue_depth(self) -> int:
        """Writes waiting for a transaction (for readiness and metrics)."""
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run(self, fn: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `fn` in its own transaction; its events publish after commit."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Single(fn, future))
        return await future

    async def run_shared(self, fn: Callable[[Tx], Awaitable[T]]) -> T:
        """Like `run`, but `fn` shares its transaction (and its fsync) with the other small
        writes queued with it — marks, reactions, views — as sends share theirs. `fn` must
        raise its ApiErrors before it writes: its neighbours' writes commit regardless."""
        result: T = await self.submit(_run_shared, fn)
        return result

    def submit(self, fn: BatchFn, item: Any) -> asyncio.Future[Any]:
        """Queue `item` for `fn`; items queued together share one transaction."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Batched(fn, item, future))
        return future

    async def _loop(self) -> None:
        while True:
            first = await self._queue.get()
            if self._window:
                await asyncio.sleep(self._window)
            waiting = [first]
            while not self._queue.empty():
                waiting.append(self._queue.get_nowait())
            try:
                for entry in _grouped(waiting):
                    if isinstance(entry, _Single):
                        await self._run_single(entry)
                        continue
                    for start in range(0, len(entry), self._max_batch):
                        await self._run_batch(entry[0].fn,
                                              entry[start:start + self._max_batch])
            except asyncio.CancelledError:  # stopping: what was taken but not run is told so
                for job in waiting:
                    if not job.future.done():
                        job.future.cancel()
                raise

    async def _transaction(self, body: Callable[[Tx], Awaitable[T]]) -> tuple[T, list[Event]]:
        async with self._db.write() as conn:
            tx = Tx(conn, self._stores, self._clock.now_ms())
            result = await body(tx)
            await tx.flush_events()
        self.commits += 1
        if tx.queued_jobs and self.on_jobs is not None:
            self.on_jobs()
        return result, tx.events

    async def _run_single(self, job: _Single[Any]) -> None:
        try:
            result, events = await self._transaction(job.fn)
        except Exception as exc:  # the job's own failure: it goes back to its caller
            if not isinstance(exc, ApiError):
                log.exception("write failed")
            _settle(job.future, exc=exc)
            return
        self._publish_safely(events)
        _settle(job.future, result=result)

    async def _run_batch(self, fn: BatchFn, batch: list[_Batched]) -> None:
        items = [b.item for b in batch]
        try:
            results, events = await self._transaction(lambda tx: fn(tx, items))
        except Exception:
            if len(batch) == 1:
                log.exception("batched write failed")
                _settle(batch[0].future, exc=ApiError("could not store this", code="write_failed"))
                return
            # One bad item must not sink its neighbours: retry each alone.
            for job in batch:
                await self._run_batch(fn, [job])
            return
        self.batches += 1
        self.batched_items += len(batch)
        if self.on_batch is not None:
            self.on_batch(len(batch))
        self._publish_safely(events)
        for job, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                _settle(job.future, exc=result)
            else:
                _settle(job.future, result=result)

    def _publish_safely(self, events: list[Event]) -> None:
        if not events:
            return
        try:
            self._publish(events)
        except Exception:  # committed is committed: clients catch up from storage
            log.exception("publishing events failed")


def _grouped(waiting: list[_Single[Any] | _Batched]) -> list[_Single[Any] | list[_Batched]]:
    """What waits, as transactions: each single alone, and every batched write of one kind
    together, wherever it stood in the queue. Sends, marks and jobs settling arrive
    interleaved under load; batching only neighbours made a transaction of almost each one.
    Everything here was queued before any of it ran, so no caller is waiting on another's
    write, and reordering across kinds changes nothing a caller can see."""
    out: list[_Single[Any] | list[_Batched]] = []
    groups: dict[BatchFn, list[_Batched]] = {}
    for job in waiting:
        if isinstance(job, _Single):
            out.append(job)
        elif (group := groups.get(job.fn)) is not None:
            group.append(job)
        else:
            groups[job.fn] = group = [job]
            out.append(group)
    return out


async def _run_shared(tx: Tx, fns: list[Callable[[Tx], Awaitable[Any]]]) -> list[Any]:
    """The batch function of `Writer.run_shared`: each write in turn, in one transaction;
    a refusal (ApiError) is its write's own answer, anything else fails the batch (which
    the writer then retries write by write)."""
    results: list[Any] = []
    for fn in fns:
        try:
            results.append(await fn(tx))
        except ApiError as exc:
            results.append(exc)
    return results


def _settle(future: asyncio.Future[Any], *, result: Any = None,
            exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
