"""Message search: which chat and stream position each indexed message has.

The words themselves live beside it, in each engine's own index (created by migration
0015, not from this metadata): on SQLite the contentless FTS5 table `message_fts` (rowid =
message id), on PostgreSQL the `words` tsvector column of this table with a GIN index.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Table

from darbuka.storage.tables.base import metadata

__all__ = ["message_search"]

# One row per message that can be found (text and media kinds; not system messages); a
# deleted or removed one keeps its row with no words. `pos` is its `message.new` position:
# the membership spans say who may find it.
message_search = Table(
    "message_search",
    metadata,
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("pos", BigInteger, nullable=False),
    # Whether the engine's index holds words of it now (the message's current text).
    Column("has_words", Boolean, nullable=False, server_default="0"),
)
