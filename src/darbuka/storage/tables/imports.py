"""What came in from elsewhere (a Telegram export) and what goes out (a person's data).

An import remembers, per source chat, which chat it became, which author became which
account and which message became which: a second run of the same export adds nothing, and
a run that stopped half-way goes on from where it stopped.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from darbuka.storage.tables.base import Id, metadata

__all__ = ["data_exports", "import_authors", "import_chats", "import_messages"]

# `source` names the chat where it came from, e.g. "telegram:1234567890".
import_chats = Table(
    "import_chats",
    metadata,
    Column("source", String(96), primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# An author of the source (its id there, e.g. "user42") and the account that stands for
# them: a person matched by phone or @username, or a placeholder made for them.
import_authors = Table(
    "import_authors",
    metadata,
    Column("source", String(96), primary_key=True),
    Column("author", String(96), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
)

# One row per message of the source: the message it became (null when it was not
# imported: a service note, or media a hash bank refused, `outcome` says which).
import_messages = Table(
    "import_messages",
    metadata,
    Column("source", String(96), primary_key=True),
    Column("item", BigInteger, primary_key=True),
    Column("message_id", BigInteger, nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("note", Text, nullable=True),
)

# A person's download of their own data: pending -> ready (`blob` is the zip) | failed;
# ready -> expired (the zip gone) once they ask for a newer one.
data_exports = Table(
    "data_exports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("blob", String(64), nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Index("ix_data_exports_user", "user_id", "id"),
)
