"""Hash banks, their hashes, and recorded matches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from darbuka.storage.db import Conn
from darbuka.storage.tables.banks import bank_hashes, bank_scans, banks, matches
from darbuka.storage.users import DuplicateKey

__all__ = ["BankStore"]

Row = dict[str, Any]
# Keeps every IN (...) list well under SQLite's bound-parameter limit.
CHUNK = 1000


class BankStore:
    async def create(self, conn: Conn, values: Row, now: int) -> int:
        try:
            result = await conn.execute(insert(banks).values(
                **values, created_at=now, updated_at=now).returning(banks.c.id))
        except IntegrityError as exc:
            raise DuplicateKey(str(exc.orig)) from exc
        return int(result.scalar_one())

    async def by_name(self, conn: Conn, name: str) -> Row | None:
        row = (await conn.execute(select(banks).where(banks.c.name == name))).mappings().first()
        return dict(row) if row else None

    async def all(self, conn: Conn) -> list[Row]:
        rows = (await conn.execute(select(banks).order_by(banks.c.id))).mappings()
        return [dict(r) for r in rows]

    async def counts(self, conn: Conn) -> dict[int, dict[str, int]]:
        """Active hashes per bank and signal type."""
        query = (select(bank_hashes.c.bank_id, bank_hashes.c.signal, func.count())
                 .where(bank_hashes.c.removed.is_(False))
                 .group_by(bank_hashes.c.bank_id, bank_hashes.c.signal))
        out: dict[int, dict[str, int]] = {}
        for bank_id, signal, count in (await conn.execute(query)).all():
            out.setdefault(int(bank_id), {})[str(signal)] = int(count)
        return out

    async def update(self, conn: Conn, bank_id: int, values: Row, now: int) -> None:
        """Change settings; bumps the version so other processes pick the change up."""
        await conn.execute(update(banks).where(banks.c.id == bank_id).values(
            **values, version=banks.c.version + 1, updated_at=now))

    async def delete(self, conn: Conn, bank_id: int) -> None:
        await conn.execute(delete(bank_hashes).where(bank_hashes.c.bank_id == bank_id))
        await conn.execute(delete(banks).where(banks.c.id == bank_id))

    async def bump(self, conn: Conn, bank_id: int, now: int) -> int:
        """The bank's next version. The row lock it takes orders concurrent writers, so
        versions become visible in order and a reader scanning `version > seen` misses
        nothing."""
        result = await conn.execute(
            update(banks).where(banks.c.id == bank_id)
            .values(version=banks.c.version + 1, updated_at=now).returning(banks.c.version))
        return int(result.scalar_one())

    async def add_hashes(self, conn: Conn, bank_id: int,
                         rows: Sequence[tuple[str, bytes, dict[str, str]]], version: int,
                         now: int) -> int:
        """Insert new hashes, revive removed ones; those already active are left alone.
        Returns how many were added or revived (all stamped with `version`)."""
        changed = 0
        for start in range(0, len(rows), CHUNK):
            chunk = {(s, h): labels for s, h, labels in rows[start:start + CHUNK]}
            existing = await self._existing(conn, bank_id, chunk.keys())
            revive = [k for k, removed in existing.items() if removed]
            fresh = [k for k in chunk if k not in existing]
            if fresh:
                await conn.execute(insert(bank_hashes), [
                    {"bank_id": bank_id, "signal": s, "hash": h, "version": version,
                     "labels": orjson.dumps(chunk[(s, h)]).decode(), "removed": False,
                     "added_at": now} for s, h in fresh])
            for s, h in revive:
                await conn.execute(update(bank_hashes).where(
                    bank_hashes.c.bank_id == bank_id, bank_hashes.c.signal == s,
                    bank_hashes.c.hash == h).values(
                        removed=False, version=version, added_at=now,
                        labels=orjson.dumps(chunk[(s, h)]).decode()))
            changed += len(fresh) + len(revive)
        return changed

    async def remove_hashes(self, conn: Conn, bank_id: int,
                            keys: Sequence[tuple[str, bytes]], version: int) -> int:
        """Mark hashes removed (kept as tombstones so other processes see the removal)."""
        changed = 0
        for start in range(0, len(keys), CHUNK):
            chunk = list(keys[start:start + CHUNK])
            result = await conn.execute(update(bank_hashes).where(
                bank_hashes.c.bank_id == bank_id, bank_hashes.c.removed.is_(False),
                tuple_(bank_hashes.c.signal, bank_hashes.c.hash).in_(chunk),
            ).values(removed=True, version=version))
            changed += int(result.rowcount)
        return changed

    async def _existing(self, conn: Conn, bank_id: int,
                        keys: Iterable[tuple[str, bytes]]) -> dict[tuple[str, bytes], bool]:
        query = select(bank_hashes.c.signal, bank_hashes.c.hash, bank_hashes.c.removed).where(
            bank_hashes.c.bank_id == bank_id,
            tuple_(bank_hashes.c.signal, bank_hashes.c.hash).in_(list(keys)))
        return {(s, bytes(h)): bool(r) for s, h, r in (await conn.execute(query)).all()}

    async def changes(self, conn: Conn, bank_id: int, after_version: int,
                      *, active_only: bool = False, after_id: int = 0,
                      limit: int | None = None) -> list[tuple[int, str, bytes, bool]]:
        """(id, signal, hash, removed) of the hash rows of a bank touched after
        `after_version` (0: all of them), in id order from after `after_id`. Plain tuples:
        start-up loads millions (in pages of `limit`)."""
        cols = (bank_hashes.c.id, bank_hashes.c.signal, bank_hashes.c.hash,
                bank_hashes.c.removed)
        where = [bank_hashes.c.bank_id == bank_id, bank_hashes.c.version > after_version,
                 bank_hashes.c.id > after_id]
        if active_only:
            where.append(bank_hashes.c.removed.is_(False))
        query = select(*cols).where(and_(*where)).order_by(bank_hashes.c.id).limit(limit)
        result = await conn.execute(query)
        return [(int(i), str(s), bytes(h), bool(r)) for i, s, h, r in result.all()]

    async def hashes(self, conn: Conn, bank_id: int) -> list[Row]:
        """Active hashes with their labels, for export."""
        query = (select(bank_hashes.c.signal, bank_hashes.c.hash, bank_hashes.c.labels)
                 .where(bank_hashes.c.bank_id == bank_id, bank_hashes.c.removed.is_(False))
                 .order_by(bank_hashes.c.id))
        return [{"signal": s, "hash": bytes(h), "labels": orjson.loads(labels)}
                for s, h, labels in (await conn.execute(query)).all()]

    async def record_matches(self, conn: Conn, rows: list[Row]) -> None:
        if rows:
            await conn.execute(insert(matches), rows)

    async def count_refused(self, conn: Conn, since: int, until: int) -> int:
        """Uploads refused by a bank match in [since, until): one per upload, however many
        of its hashes matched."""
        query = select(func.count(func.distinct(matches.c.subject))).where(
            matches.c.outcome == "refuse", matches.c.created_at >= since,
            matches.c.created_at < until)
        return int((await conn.execute(query)).scalar_one())

    async def matches_of(self, conn: Conn, subject: str, limit: int = 50) -> list[Row]:
        """The matches recorded for one checked thing (e.g. `media:<id>`), newest first."""
        query = (select(matches).where(matches.c.subject == subject)
                 .order_by(matches.c.id.desc()).limit(limit))
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def recent_matches(self, conn: Conn, limit: int) -> list[Row]:
        query = select(matches).order_by(matches.c.id.desc()).limit(limit)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    # -- scans of stored media against added hashes (`safety/retro.py`) ----------------------

    async def queue_scan(self, conn: Conn, bank_id: int, version: int, now: int) -> int | None:
        """Cover hashes stamped `version` by a scan: the bank's scan not started yet is
        widened (None), else a new scan is made (its id, for its job). Called under the
        bank's row lock (`bump`), so two adders never both make one."""
        widened = await conn.execute(
            update(bank_scans).where(bank_scans.c.bank_id == bank_id,
                                     bank_scans.c.state == "queued")
            .values(to_version=version).returning(bank_scans.c.id))
        if widened.first() is not None:
            return None
        result = await conn.execute(insert(bank_scans).values(
            bank_id=bank_id, from_version=version - 1, to_version=version, state="queued",
            created_at=now).returning(bank_scans.c.id))
        return int(result.scalar_one())

    async def claim_scan(self, conn: Conn, scan_id: int, now: int) -> Row | None:
        """Mark a scan running (no adder widens it from now on) and return it; None when it
        is done or gone."""
        result = await conn.execute(
            update(bank_scans).where(bank_scans.c.id == scan_id,
                                     bank_scans.c.state != "done")
            .values(state="running",
                    started_at=func.coalesce(bank_scans.c.started_at, now))
            .returning(*bank_scans.c))
        row = result.mappings().first()
        return dict(row) if row else None

    async def update_scan(self, conn: Conn, scan_id: int, **values: Any) -> None:
        await conn.execute(update(bank_scans).where(bank_scans.c.id == scan_id).values(**values))

    async def scans(self, conn: Conn, bank_id: int, limit: int) -> list[Row]:
        query = (select(bank_scans).where(bank_scans.c.bank_id == bank_id)
                 .order_by(bank_scans.c.id.desc()).limit(limit))
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def added_between(self, conn: Conn, bank_id: int, after_version: int,
                            upto_version: int) -> list[tuple[str, bytes]]:
        """(signal, hash) of the bank's active hashes stamped in (after, upto]."""
        c = bank_hashes.c
        query = select(c.signal, c.hash).where(
            c.bank_id == bank_id, c.version > after_version, c.version <= upto_version,
            c.removed.is_(False))
        return [(str(s), bytes(h)) for s, h in (await conn.execute(query)).all()]
