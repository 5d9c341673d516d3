"""Trust and safety rows: queue items, reports, statements, orders, appeals, preserved copies
and the audit chain."""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Table, and_, exists, func, insert, or_, select, text, update

from darbuka.storage.db import Conn
from darbuka.storage.tables.media import media
from darbuka.storage.tables.messages import messages
from darbuka.storage.tables.safety import (
    appeals,
    audit_log,
    link_held_sends,
    moderation_items,
    moderator_settings,
    preserved,
    removal_orders,
    reports,
    statements,
)

__all__ = ["QueueFilter", "SafetyStore"]

_COUNTED = {"statements": statements, "removal_orders": removal_orders,
            "moderation_items": moderation_items, "appeals": appeals}

Row = dict[str, Any]


class SafetyStore:
    # -- generic ----------------------------------------------------------------------------

    async def _insert(self, conn: Conn, table: Table, values: Row) -> int:
        result = await conn.execute(insert(table).values(**values).returning(table.c.id))
        return int(result.scalar_one())

    async def _get(self, conn: Conn, table: Table, row_id: int) -> Row | None:
        row = (await conn.execute(select(table).where(table.c.id == row_id))).mappings().first()
        return dict(row) if row else None

    async def _update(self, conn: Conn, table: Table, row_id: int,
                      values: Row) -> None:
        await conn.execute(update(table).where(table.c.id == row_id).values(**values))

    # -- queue items ------------------------------------------------------------------------

    async def open_item_for(self, conn: Conn, target_type: str,
                            target_id: int) -> Row | None:
        query = (select(moderation_items)
                 .where(moderation_items.c.target_type == target_type,
                        moderation_items.c.target_id == target_id,
                        moderation_items.c.status == "open")
                 .order_by(moderation_items.c.priority).limit(1))
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def open_item_for_key(self, conn: Conn, target_type: str,
                                key: str) -> Row | None:
        """The open item of a target named by key (media are: their ids are strings)."""
        query = (select(moderation_items)
                 .where(moderation_items.c.target_type == target_type,
                        moderation_items.c.target_key == key,
                        moderation_items.c.status == "open")
                 .order_by(moderation_items.c.priority).limit(1))
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def add_item(self, conn: Conn, **values: Any) -> int:
        return await self._insert(conn, moderation_items, values)

    async def item(self, conn: Conn, item_id: int) -> Row | None:
        return await self._get(conn, moderation_items, item_id)

    async def update_item(self, conn: Conn, item_id: int, **values: Any) -> None:
        await self._update(conn, moderation_items, item_id, values)

    async def queue(self, conn: Conn, *, status: str, limit: int,
                    where: QueueFilter | None = None) -> list[Row]:
        items = moderation_items.c
        query = select(moderation_items).where(items.status == status)
        if where is not None:
            query = query.where(*_queue_conditions(where))
        query = query.order_by(items.priority, items.created_at, items.id).limit(limit)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def claim_item(self, conn: Conn, item_id: int, user_id: int, now: int,
                         lapsed_at: int) -> bool:
        """Claim an open item unless another's claim made after `lapsed_at` holds it. One
        conditional UPDATE: of two moderators claiming at once, one wins."""
        items = moderation_items.c
        result = await conn.execute(
            update(moderation_items)
            .where(items.id == item_id, items.status == "open",
                   or_(items.claimed_by.is_(None), items.claimed_by == user_id,
                       items.claimed_at <= lapsed_at))
            .values(claimed_by=user_id, claimed_at=now))
        return bool(result.rowcount)

    async def release_item(self, conn: Conn, item_id: int, user_id: int | None) -> None:
        """Drop the claim on an item (`user_id`: only if it is theirs)."""
        items = moderation_items.c
        query = update(moderation_items).where(items.id == item_id)
        if user_id is not None:
            query = query.where(items.claimed_by == user_id)
        await conn.execute(query.values(claimed_by=None, claimed_at=None))

    async def items_about(self, conn: Conn, user_id: int, *, besides: int,
                          limit: int = 20) -> list[Row]:
        """Queue items, open or decided, about a person: their account, a message they sent
        or a file they uploaded; newest first."""
        items = moderation_items.c
        query = (select(moderation_items).where(items.id != besides, or_(
            and_(items.target_type == "user", items.target_id == user_id),
            and_(items.target_type == "message", items.target_id.in_(
                select(messages.c.id).where(messages.c.sender_id == user_id))),
            and_(items.target_type == "media", items.target_key.in_(
                select(media.c.id).where(media.c.owner_id == user_id)))))
            .order_by(items.id.desc()).limit(limit))
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    # -- reports ----------------------------------------------------------------------------

    async def add_report(self, conn: Conn, **values: Any) -> int:
        return await self._insert(conn, reports, values)

    async def reports_of_item(self, conn: Conn, item_id: int) -> list[Row]:
        query = select(reports).where(reports.c.item_id == item_id).order_by(reports.c.id)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def reports_by(self, conn: Conn, reporter_id: int) -> list[Row]:
        query = (select(reports).where(reports.c.reporter_id == reporter_id)
                 .order_by(reports.c.id.desc()).limit(100))
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def set_report_outcome(self, conn: Conn, item_id: int,
                                 outcome: str) -> list[Row]:
        """Close the reports of an item; return them (their reporters learn the outcome)."""
        await conn.execute(update(reports).where(reports.c.item_id == item_id,
                                                 reports.c.outcome.is_(None))
                           .values(outcome=outcome))
        return await self.reports_of_item(conn, item_id)

    # -- statements of reasons --------------------------------------------------------------

    async def add_statement(self, conn: Conn, **values: Any) -> int:
        return await self._insert(conn, statements, values)

    async def statement(self, conn: Conn, statement_id: int) -> Row | None:
        return await self._get(conn, statements, statement_id)

    async def statements_of(self, conn: Conn, user_id: int) -> list[Row]:
        query = (select(statements).where(statements.c.user_id == user_id)
                 .order_by(statements.c.id.desc()).limit(100))
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def statements_for_target(self, conn: Conn, target_type: str,
                                    target_id: int, *, item_id: int | None = None) -> list[Row]:
        """Statements about the target not reversed yet (with `item_id`: of that item's
        decision only)."""
        query = select(statements).where(statements.c.target_type == target_type,
                                         statements.c.target_id == target_id,
                                         statements.c.reversed_at.is_(None))
        if item_id is not None:
            query = query.where(statements.c.item_id == item_id)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def reverse_statement(self, conn: Conn, statement_id: int,
                                now: int) -> None:
        await self._update(conn, statements, statement_id, {"reversed_at": now})

    # -- removal orders ---------------------------------------------------------------------

    async def add_order(self, conn: Conn, **values: Any) -> int:
        return await self._insert(conn, removal_orders, values)

    async def order(self, conn: Conn, order_id: int) -> Row | None:
        return await self._get(conn, removal_orders, order_id)

    async def update_order(self, conn: Conn, order_id: int, **values: Any) -> None:
        await self._update(conn, removal_orders, order_id, values)

    async def orders(self, conn: Conn, *, states: tuple[str, ...] | None = None,
                     submitted_by: int | None = None, limit: int = 200) -> list[Row]:
        query = select(removal_orders).order_by(removal_orders.c.received_at.desc())
        if states:
            query = query.where(removal_orders.c.state.in_(states))
        if submitted_by is not None:
            query = query.where(removal_orders.c.submitted_by == submitted_by)
        return [dict(r) for r in (await conn.execute(query.limit(limit))).mappings()]

    # -- appeals ----------------------------------------------------------------------------

    async def add_appeal(self, conn: Conn, **values: Any) -> int:
        return await self._insert(conn, appeals, values)

    async def appeal(self, conn: Conn, appeal_id: int) -> Row | None:
        return await self._get(conn, appeals, appeal_id)

    async def update_appeal(self, conn: Conn, appeal_id: int, **values: Any) -> None:
        await self._update(conn, appeals, appeal_id, values)

    async def appeals(self, conn: Conn, *, status: str | None = None,
                      user_id: int | None = None, statement_id: int | None = None) -> list[Row]:
        query = select(appeals).order_by(appeals.c.id)
        if status is not None:
            query = query.where(appeals.c.status == status)
        if user_id is not None:
            query = query.where(appeals.c.user_id == user_id)
        if statement_id is not None:
            query = query.where(appeals.c.statement_id == statement_id)
        return [dict(r) for r in (await conn.execute(query.limit(500))).mappings()]

    # -- preserved copies -------------------------------------------------------------------

    async def preserve(self, conn: Conn, **values: Any) -> int:
        return await self._insert(conn, preserved, values)

    async def preserved_copy(self, conn: Conn, copy_id: int) -> Row | None:
        return await self._get(conn, preserved, copy_id)

    async def preserved_for(self, conn: Conn, target_type: str,
                            target_id: int) -> Row | None:
        query = (select(preserved).where(preserved.c.target_type == target_type,
                                         preserved.c.target_id == target_id)
                 .order_by(preserved.c.id.desc()).limit(1))
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def removal_by(self, conn: Conn, target_type: str, target_id: int,
                         item_id: int) -> Row | None:
        """The copy kept when item `item_id` removed the target, while that removal stands."""
        query = (select(preserved).where(preserved.c.target_type == target_type,
                                         preserved.c.target_id == target_id,
                                         preserved.c.item_id == item_id,
                                         preserved.c.reinstated_at.is_(None))
                 .order_by(preserved.c.id.desc()).limit(1))
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def standing_removals(self, conn: Conn, target_type: str,
                                target_id: int) -> list[Row]:
        """The copies of every removal of the target not undone yet."""
        query = select(preserved).where(preserved.c.target_type == target_type,
                                        preserved.c.target_id == target_id,
                                        preserved.c.reinstated_at.is_(None))
        return [dict(r) for r in (await conn.execute(query.order_by(preserved.c.id)))
                .mappings()]

    async def mark_reinstated(self, conn: Conn, copy_id: int, now: int) -> None:
        await self._update(conn, preserved, copy_id, {"reinstated_at": now})

    async def extend_preservation(self, conn: Conn, copy_id: int,
                                  keep_until: int) -> None:
        await self._update(conn, preserved, copy_id, {"keep_until": keep_until})

    async def preserved_page(self, conn: Conn, *, before: int | None,
                             limit: int) -> list[Row]:
        """Preserved copies, newest first, without their content."""
        columns = [c for c in preserved.c if c.name != "content"]
        query = select(*columns).order_by(preserved.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(preserved.c.id < before)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def purge_preserved(self, conn: Conn, now: int) -> list[int]:
        query = select(preserved.c.id).where(preserved.c.keep_until <= now)
        ids = [int(i) for i in (await conn.execute(query)).scalars()]
        if ids:
            await conn.execute(preserved.delete().where(preserved.c.id.in_(ids)))
        return ids

    async def media_on_hold(self, conn: Conn, decided_since: int) -> set[str]:
        """Media ids a moderation item names that must keep their files: the item is still
        open, was decided since `decided_since`, or a preserved copy of its decision remains
        (preserved copies are purged when their time is up, extensions included)."""
        items = moderation_items.c
        query = select(items.target_key).distinct().where(
            items.target_key.is_not(None),
            or_(items.decided_at.is_(None), items.decided_at >= decided_since,
                exists().where(preserved.c.item_id == items.id)))
        return {str(k) for k in (await conn.execute(query)).scalars()}

    # -- counts for the transparency report -------------------------------------------------

    async def count(self, conn: Conn, table: str, column: str, since: int,
                    until: int, group_by: str | None = None, *,
                    source: str | None = None) -> dict[str, int]:
        """Rows of one of the transparency report's tables with `column` in [since, until),
        by `group_by` (or {"all": n}); `source` keeps only queue items of that source."""
        rows = _COUNTED[table]
        time_col = rows.c[column]
        key = rows.c[group_by] if group_by else None
        cols = [key, func.count()] if key is not None else [func.count()]
        query = select(*cols).where(time_col >= since, time_col < until)
        if source is not None:
            query = query.where(rows.c.source == source)
        if key is not None:
            query = query.group_by(key)
            return {str(k): int(n) for k, n in (await conn.execute(query)).all()}
        return {"all": int((await conn.execute(query)).scalar_one())}

    async def times_to_decision(self, conn: Conn, since: int,
                                until: int) -> dict[str, list[int]]:
        """Per source, ms from each item's receipt to its decision, for the items decided
        in [since, until) (the transparency report's time-to-action)."""
        items = moderation_items.c
        query = (select(items.source, items.decided_at - items.created_at)
                 .where(items.decided_at >= since, items.decided_at < until))
        found: dict[str, list[int]] = {}
        for source, took in (await conn.execute(query)).all():
            found.setdefault(str(source), []).append(max(0, int(took)))
        return found

    # -- the audit chain --------------------------------------------------------------------

    async def lock_audit(self, conn: Conn) -> None:
        """Serialise appends across server processes (SQLite has one writer anyway)."""
        if conn.dialect.name == "postgresql":
            await conn.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))

    async def last_audit(self, conn: Conn) -> Row | None:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(1)
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def append_audit(self, conn: Conn, record: Row) -> None:
        await conn.execute(insert(audit_log).values(**record))

    async def audit_records(self, conn: Conn, *, after: int = 0,
                            limit: int = 1000) -> list[Row]:
        query = (select(audit_log).where(audit_log.c.id > after).order_by(audit_log.c.id)
                 .limit(limit))
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    # -- sends held for review by a link ----------------------------------------------------

    async def add_held_send(self, conn: Conn, **values: Any) -> int:
        return await self._insert(conn, link_held_sends, values)

    async def held_send(self, conn: Conn, held_id: int) -> Row | None:
        return await self._get(conn, link_held_sends, held_id)

    async def held_send_of(self, conn: Conn, sender_id: int, client_id: str) -> Row | None:
        query = select(link_held_sends).where(link_held_sends.c.sender_id == sender_id,
                                              link_held_sends.c.client_id == client_id)
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def update_held_send(self, conn: Conn, held_id: int, **values: Any) -> None:
        await self._update(conn, link_held_sends, held_id, values)

    # -- moderators' own settings -----------------------------------------------------------

    async def moderator_settings(self, conn: Conn, user_id: int) -> str | None:
        query = select(moderator_settings.c.settings).where(
            moderator_settings.c.user_id == user_id)
        value = (await conn.execute(query)).scalar()
        return str(value) if value is not None else None

    async def set_moderator_settings(self, conn: Conn, user_id: int, settings: str,
                                     now: int) -> None:
        table = moderator_settings
        done = await conn.execute(update(table).where(table.c.user_id == user_id)
                                  .values(settings=settings, updated_at=now))
        if not done.rowcount:
            await conn.execute(insert(table).values(user_id=user_id, settings=settings,
                                                    updated_at=now))


class QueueFilter(TypedDict, total=False):
    """What GET /moderation/queue narrows to. `claimed`: "unclaimed" or a user id (a claim
    counts while made after `lapsed_at`)."""

    source: str
    target_type: str
    reason: str
    created_before: int
    claimed: str | int
    lapsed_at: int


def _queue_conditions(where: QueueFilter) -> list[ColumnElement[bool]]:
    items = moderation_items.c
    found: list[ColumnElement[bool]] = []
    if "source" in where:
        found.append(items.source == where["source"])
    if "target_type" in where:
        found.append(items.target_type == where["target_type"])
    if "reason" in where:
        found.append(exists().where(reports.c.item_id == items.id,
                                    reports.c.reason == where["reason"]))
    if "created_before" in where:
        found.append(items.created_at <= where["created_before"])
    claimed, lapsed_at = where.get("claimed"), where.get("lapsed_at", 0)
    if claimed == "unclaimed":
        found.append(or_(items.claimed_by.is_(None), items.claimed_at <= lapsed_at))
    elif claimed is not None:
        found.append(and_(items.claimed_by == int(claimed), items.claimed_at > lapsed_at))
    return found
