"""The installation's own row: the fingerprint of the secret it was first started with."""

from __future__ import annotations

from sqlalchemy import insert, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.installation import installation

__all__ = ["InstallationStore"]

ROW = 0


class InstallationStore:
    async def secret_fingerprint(self, conn: Conn, *, first: bytes, now_ms: int) -> bytes:
        """The stored fingerprint; `first` is stored (and returned) when there is none yet.

        The caller holds the migration lock (`storage.migrate`), so two processes starting
        on a new database never both store one."""
        found = await conn.execute(select(installation.c.secret_fingerprint)
                                   .where(installation.c.id == ROW))
        row = found.first()
        if row is not None:
            return bytes(row[0])
        await conn.execute(insert(installation).values(id=ROW, secret_fingerprint=first,
                                                       created_at=now_ms))
        return first
