"""Bots: their update marker, webhook subscriptions and callback presses."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from darbuka.storage.tables.base import Id, metadata

__all__ = ["bot_callbacks", "bot_subscriptions", "bots"]

# A bot is a user of kind "bot"; this row holds what only bots have.
bots = Table(
    "bots",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("description", String(16000), nullable=False, server_default=""),
    # JSON list of {"name", "description"}.
    Column("commands", Text, nullable=False, server_default="[]"),
    # The stream position the bot has taken updates up to (long polling or webhook).
    Column("marker", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

bot_subscriptions = Table(
    "bot_subscriptions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("bot_id", ForeignKey("bots.user_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("url", String(2048), nullable=False),
    # JSON list of update types; empty means all.
    Column("update_types", Text, nullable=False, server_default="[]"),
    Column("version", String(16), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("bot_id", "url", name="uq_bot_subscriptions_url"),
)

# A press of a callback button, waiting for the bot's answer.
bot_callbacks = Table(
    "bot_callbacks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("bot_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("payload", String(1024), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
