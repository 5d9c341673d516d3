"""Polls' votes and the client ids of vote requests."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.polls import poll_ballots, poll_votes

__all__ = ["PollStore"]

v = poll_votes.c
b = poll_ballots.c


class PollStore:
    async def ballot(self, conn: Conn, user_id: int, client_id: str) -> int | None:
        """The poll an earlier vote request with this client id was for, if any."""
        found = await conn.execute(select(b.message_id).where(b.user_id == user_id,
                                                              b.client_id == client_id))
        message_id = found.scalar()
        return None if message_id is None else int(message_id)

    async def add_ballot(self, conn: Conn, *, user_id: int, client_id: str, message_id: int,
                         now: int) -> None:
        await conn.execute(insert(poll_ballots).values(
            user_id=user_id, client_id=client_id, message_id=message_id, created_at=now))

    async def mine(self, conn: Conn, message_id: int, user_id: int) -> list[int]:
        found = await conn.execute(select(v.option).where(
            v.message_id == message_id, v.user_id == user_id).order_by(v.option))
        return [int(o) for o in found.scalars()]

    async def replace(self, conn: Conn, *, message_id: int, chat_id: int, user_id: int,
                      options: list[int], now: int) -> None:
        """Make `options` the user's whole choice (none: the vote is taken back)."""
        await conn.execute(delete(poll_votes).where(v.message_id == message_id,
                                                    v.user_id == user_id))
        if options:
            await conn.execute(insert(poll_votes), [
                {"message_id": message_id, "chat_id": chat_id, "user_id": user_id,
                 "option": o, "created_at": now} for o in options])

    async def counts(self, conn: Conn, message_ids: list[int]) -> dict[int, dict[int, int]]:
        """poll → option → how many chose it, for the polls that have votes."""
        if not message_ids:
            return {}
        found = await conn.execute(
            select(v.message_id, v.option, func.count())
            .where(v.message_id.in_(message_ids)).group_by(v.message_id, v.option))
        out: dict[int, dict[int, int]] = {}
        for message_id, option, n in found.all():
            out.setdefault(int(message_id), {})[int(option)] = int(n)
        return out

    async def voter_counts(self, conn: Conn, message_ids: list[int]) -> dict[int, int]:
        """poll → how many people voted (in a multiple-choice poll, fewer than the votes)."""
        if not message_ids:
            return {}
        found = await conn.execute(
            select(v.message_id, func.count(func.distinct(v.user_id)))
            .where(v.message_id.in_(message_ids)).group_by(v.message_id))
        return {int(m): int(n) for m, n in found.all()}

    async def voters(self, conn: Conn, message_id: int, *,
                     per_option: int) -> dict[int, list[int]]:
        """option → who chose it, earliest first, at most `per_option` each."""
        found = await conn.execute(select(v.option, v.user_id)
                                   .where(v.message_id == message_id)
                                   .order_by(v.option, v.created_at, v.user_id))
        out: dict[int, list[int]] = {}
        for option, user_id in found.all():
            people = out.setdefault(int(option), [])
            if len(people) < per_option:
                people.append(int(user_id))
        return out


