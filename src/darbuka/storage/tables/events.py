"""The event stream: every change users see, at a gap-free position."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Table,
)

from darbuka.storage.tables.base import metadata

__all__ = ["event_pos", "events", "streams"]

# The event stream. On SQLite `pos` is handed out under the lock on `streams`, so positions
# become visible in order; on PostgreSQL from `event_pos`, and readers read only up to the
# head proven complete (`storage/stream_head.py`). Either way a reader never sees pos N+1
# while N may still come.
events = Table(
    "events",
    metadata,
    Column("pos", BigInteger, primary_key=True, autoincrement=False),
    # Exactly one of chat_id (every member sees it) and user_id (only that user's devices).
    Column("chat_id", BigInteger, nullable=True),
    Column("user_id", BigInteger, nullable=True),
    Column("type", String(32), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Who the event lets into or out of live routing ({"j": [...], "l": [...]}), NULL for
    # most: a process that fills a gap in live delivery from here routes as the publisher.
    Column("routing", LargeBinary, nullable=True),
    Index("ix_events_chat_pos", "chat_id", "pos"),
    Index("ix_events_user_pos", "user_id", "pos"),
)

# One row per stream shard; today one shard, id 0. On SQLite the row lock serialises position
# handout; on PostgreSQL the row stays (a restore's epoch is also written here) and the
# sequence hands positions out.
streams = Table(
    "streams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("pos", BigInteger, nullable=False),
)

# PostgreSQL's position handout (migration 0027): writers take positions without waiting for
# each other. CACHE 1 (the default) matters: a backend's cached values would be handed out
# after a reader had read a later `last_value`, which the proof of the head rules out.
event_pos = Sequence("event_pos", metadata=metadata, minvalue=0, start=1, cache=1)
