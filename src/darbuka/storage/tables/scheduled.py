"""Messages written now to be sent later."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from darbuka.storage.tables.base import Id, metadata

__all__ = ["scheduled_messages"]

# scheduled -> sent (message_id set) | cancelled | failed (the send was refused at its time:
# the author lost the right to post, the chat was closed; `error` says why).
scheduled_messages = Table(
    "scheduled_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("sender_id", BigInteger, nullable=False),
    # The client's id for the send: scheduling again with it returns this row, and the send
    # at its time carries it, so a send retried after a crash is answered with the original.
    Column("client_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("send_at", BigInteger, nullable=False),  # ms, the server's clock
    Column("state", String(16), nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_scheduled_client", "sender_id", "client_id", unique=True),
    Index("ix_scheduled_due", "state", "send_at"),
    Index("ix_scheduled_chat", "chat_id", "state"),
)
