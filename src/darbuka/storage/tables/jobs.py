"""The job queue: background work that must survive a restart and run once."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from darbuka.storage.tables.base import metadata

__all__ = ["jobs"]

# One row per job not yet done. A finished job's row is deleted; one given up on stays
# `failed` for an operator to see (`darbuka admin jobs`). Periodic work keeps one row per
# name, put back to `queued` with its next time after each run.
jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("kind", String(64), nullable=False),
    # What makes a job one of a kind ("media:<id>", "every:<name>"): a second enqueue of
    # the same key while the first is not done adds nothing.
    Column("key", String(200), nullable=False, unique=True),
    Column("payload", Text, nullable=False, server_default="{}"),  # JSON
    # queued -> running -> (deleted) | queued again (a retry) | failed (given up)
    Column("state", String(16), nullable=False),
    Column("run_at", BigInteger, nullable=False),  # ms; not before
    # Times it was taken (a lease that ran out counts: its process may have died of it).
    Column("attempts", Integer, nullable=False, server_default="0"),
    # Who holds it and until when: past `lease_until` any runner may take it again.
    Column("leased_by", String(64), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_jobs_due", "state", "run_at"),
)
