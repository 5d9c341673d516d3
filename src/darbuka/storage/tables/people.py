"""Who knows whom: uploaded address books (as keyed hashes), blocks, privacy settings."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
)

from darbuka.storage.tables.base import metadata

__all__ = ["blocks", "contacts", "privacy"]

# Numbers a user uploaded from their address book, only as HMAC-SHA-256 keyed with the server
# secret: a stolen database does not list anyone's address book.
contacts = Table(
    "contacts",
    metadata,
    Column("owner_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("phone_hash", LargeBinary(32), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    # "Who had this number?" when its owner signs up.
    Index("ix_contacts_hash", "phone_hash"),
)

blocks = Table(
    "blocks",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("blocked_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_blocks_blocked", "blocked_id", "user_id"),
)

# A user without a row has the defaults (everyone, everyone, everyone).
privacy = Table(
    "privacy",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("find_by_phone", String(16), nullable=False, server_default="everyone"),
    Column("last_seen", String(16), nullable=False, server_default="everyone"),
    Column("group_add", String(16), nullable=False, server_default="everyone"),
)
