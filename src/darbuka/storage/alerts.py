"""The on-call list and the alerts sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from darbuka.storage.db import Conn
from darbuka.storage.tables.alerts import alert_recipients, alerts

__all__ = ["AlertStore"]

r, a = alert_recipients.c, alerts.c


class AlertStore:
    async def add_recipient(self, conn: Conn, *, name: str, channel: str, target: str,
                            tier: int, created_by: int | None, now: int) -> int:
        found = await conn.execute(insert(alert_recipients).values(
            name=name, channel=channel, target=target, tier=tier, created_by=created_by,
            created_at=now).returning(r.id))
        return int(found.scalar_one())

    async def recipients(self, conn: Conn, *, up_to_tier: int | None = None,
                         tier: int | None = None) -> list[dict[str, Any]]:
        query = select(alert_recipients).order_by(r.tier, r.id)
        if tier is not None:
            query = query.where(r.tier == tier)
        if up_to_tier is not None:
            query = query.where(r.tier <= up_to_tier)
        return [dict(row._mapping) for row in await conn.execute(query)]

    async def recipient(self, conn: Conn, recipient_id: int) -> dict[str, Any] | None:
        found = (await conn.execute(select(alert_recipients).where(r.id == recipient_id))).first()
        return dict(found._mapping) if found else None

    async def remove_recipient(self, conn: Conn, recipient_id: int) -> bool:
        result = await conn.execute(delete(alert_recipients).where(r.id == recipient_id))
        return bool(result.rowcount)

    async def add(self, conn: Conn, *, subject: str, level: int, summary: str,
                  now: int) -> int | None:
        """The alert of `subject` at `level`, unless it was raised already (None)."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        found = await conn.execute(dialect.insert(alerts).values(
            subject=subject, level=level, summary=summary, created_at=now,
        ).on_conflict_do_nothing(index_elements=[a.subject, a.level]).returning(a.id))
        row = found.first()
        return int(row[0]) if row else None

    async def get(self, conn: Conn, alert_id: int) -> dict[str, Any] | None:
        found = (await conn.execute(select(alerts).where(a.id == alert_id))).first()
        return dict(found._mapping) if found else None

    async def recent(self, conn: Conn, *, limit: int = 100) -> list[dict[str, Any]]:
        query = select(alerts).order_by(a.id.desc()).limit(limit)
        return [dict(row._mapping) for row in await conn.execute(query)]

    async def acknowledge(self, conn: Conn, alert_id: int, *, by: int, now: int) -> bool:
        result = await conn.execute(update(alerts).where(a.id == alert_id,
                                                         a.acknowledged_at.is_(None))
                                    .values(acknowledged_at=now, acknowledged_by=by))
        return bool(result.rowcount)
