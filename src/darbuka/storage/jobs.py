"""The job queue's statements: enqueue once per key, take due jobs under a lease, and settle.

Taking is one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING: on
PostgreSQL runners in many processes each take different rows without waiting on one
another; SQLite has one writer at a time, so the same statement (its FOR UPDATE dropped by
the dialect) is already exclusive. Every change after the take names the taker, so a runner
whose lease ran out (and whose job another runner took) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from darbuka.storage.db import Conn
from darbuka.storage.tables.jobs import jobs

__all__ = ["JobStore", "TakenJob"]

c = jobs.c
TakenJob = dict[str, Any]  # id, kind, key, payload (decoded), attempts


def _due(now: int) -> Any:
    return or_(and_(c.state == "queued", c.run_at <= now),
               and_(c.state == "running", c.lease_until < now))


class JobStore:
    async def add(self, conn: Conn, *, kind: str, key: str, payload: dict[str, Any],
                  run_at: int, now: int, lock_existing: bool = False) -> bool:
        """Queue a job unless one with this key is not yet done; True if queued.
        `lock_existing`: an existing one is updated in place (changing nothing), which
        waits for and then holds its row lock until this transaction ends."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(jobs).values(
            kind=kind, key=key, payload=orjson.dumps(payload).decode(), state="queued",
            run_at=run_at, attempts=0, created_at=now)
        if lock_existing:
            before = await conn.execute(select(c.id).where(c.key == key))
            existed = before.first() is not None
            await conn.execute(insert.on_conflict_do_update(
                index_elements=[c.key], set_={"key": insert.excluded.key}))
            return not existed
        result = await conn.execute(insert.on_conflict_do_nothing(index_elements=[c.key]))
        return bool(result.rowcount)

    async def take(self, conn: Conn, *, kind: str, limit: int, now: int, taker: str,
                   lease_until: int) -> list[TakenJob]:
        """Lease up to `limit` due jobs of `kind`: queued ones whose time has come, and
        running ones whose lease ran out (their runner stopped, perhaps killed)."""
        due = (select(c.id).where(c.kind == kind, _due(now)).order_by(c.run_at)
               .limit(limit).with_for_update(skip_locked=True))
        found = await conn.execute(
            update(jobs).where(c.id.in_(due.scalar_subquery()))
            .values(state="running", leased_by=taker, lease_until=lease_until,
                    attempts=c.attempts + 1)
            .returning(c.id, c.kind, c.key, c.payload, c.attempts))
        return [{"id": r.id, "kind": r.kind, "key": r.key,
                 "payload": orjson.loads(r.payload), "attempts": r.attempts}
                for r in found]

    async def next_times(self, conn: Conn) -> dict[str, int]:
        """Per kind, the earliest time one of its jobs can be taken (now or later)."""
        when = case((c.state == "queued", c.run_at), else_=c.lease_until)
        found = await conn.execute(select(c.kind, func.min(when))
                                   .where(c.state.in_(("queued", "running")))
                                   .group_by(c.kind))
        return {kind: int(at) for kind, at in found}

    async def renew(self, conn: Conn, ids: Sequence[int], *, taker: str,
                    lease_until: int) -> set[int]:
        """Extend the leases this taker still holds; the ids it still holds."""
        if not ids:
            return set()
        found = await conn.execute(
            update(jobs).where(c.id.in_(list(ids)), c.leased_by == taker,
                               c.state == "running")
            .values(lease_until=lease_until).returning(c.id))
        return {row.id for row in found}

    async def lock(self, conn: Conn, job_id: int, *, taker: str) -> bool:
        """Hold a taken job's row until the transaction ends; False if no longer ours."""
        found = await conn.execute(select(c.id).where(c.id == job_id, c.leased_by == taker)
                                   .with_for_update())
        return found.first() is not None

    async def finish(self, conn: Conn, job_id: int, *, taker: str) -> bool:
        result = await conn.execute(delete(jobs).where(c.id == job_id, c.leased_by == taker))
        return bool(result.rowcount)

    async def put_back(self, conn: Conn, job_id: int, *, taker: str, run_at: int,
                       error: str | None, uncount: bool = False,
                       restart: bool = False) -> bool:
        """Queue a taken job again for `run_at`. `uncount`: this take does not count as an
        attempt (the job asked to wait); `restart`: attempts start over (periodic work)."""
        attempts = 0 if restart else c.attempts - 1 if uncount else c.attempts
        result = await conn.execute(
            update(jobs).where(c.id == job_id, c.leased_by == taker)
            .values(state="queued", run_at=run_at, leased_by=None, lease_until=None,
                    attempts=attempts, last_error=error))
        return bool(result.rowcount)

    async def give_up(self, conn: Conn, job_id: int, *, taker: str, error: str) -> bool:
        result = await conn.execute(
            update(jobs).where(c.id == job_id, c.leased_by == taker)
            .values(state="failed", leased_by=None, lease_until=None, last_error=error))
        return bool(result.rowcount)

    async def count(self, conn: Conn, *, kind: str | None = None) -> int:
        """Jobs not done (queued, running or failed), of one kind or all."""
        query = select(func.count()).select_from(jobs)
        if kind is not None:
            query = query.where(c.kind == kind)
        return int((await conn.execute(query)).scalar_one())

    async def summary(self, conn: Conn) -> list[dict[str, Any]]:
        """(kind, state, count, oldest run_at) for an operator's overview."""
        found = await conn.execute(
            select(c.kind, c.state, func.count(), func.min(c.run_at))
            .group_by(c.kind, c.state).order_by(c.kind, c.state))
        return [{"kind": k, "state": s, "count": int(n), "oldest_run_at": int(at)}
                for k, s, n, at in found]

    async def failed(self, conn: Conn, *, limit: int = 50) -> list[dict[str, Any]]:
        found = await conn.execute(
            select(c.id, c.kind, c.key, c.attempts, c.last_error, c.created_at)
            .where(c.state == "failed").order_by(c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in found]

    async def drop_failed(self, conn: Conn, key: str) -> None:
        """Forget a job given up on, so that its key can be queued again."""
        await conn.execute(delete(jobs).where(c.key == key, c.state == "failed"))

    async def retry_failed(self, conn: Conn, *, now: int) -> int:
        """Queue every failed job again, its attempts started over."""
        result = await conn.execute(update(jobs).where(c.state == "failed")
                                    .values(state="queued", run_at=now, attempts=0))
        return int(result.rowcount)
