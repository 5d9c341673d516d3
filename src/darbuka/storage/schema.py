"""Tables. Times are integer milliseconds since the epoch; ids are integers.

Changes go through a new numbered migration in `migrations/versions/`, never an edit here alone.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "bank_hashes",
    "banks",
    "chats",
    "devices",
    "events",
    "login_codes",
    "matches",
    "members",
    "membership_spans",
    "messages",
    "metadata",
    "streams",
    "users",
]

metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; BigInteger would not autoincrement.
Id = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("phone", String(20), nullable=True, unique=True),
    Column("username", String(32), nullable=True),
    # Lower-cased copy that carries the uniqueness: @Alice and @alice are the same handle.
    Column("username_key", String(32), nullable=True, unique=True),
    Column("display_name", String(64), nullable=False, server_default=""),
    Column("about", String(512), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False, server_default="person"),
    Column("created_at", BigInteger, nullable=False),
    # Safety role: user | moderator | operator (see darbuka.safety.roles).
    Column("role", String(16), nullable=False, server_default="user"),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    # SHA-256 of the token; the token itself is shown once and never stored.
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
)

login_codes = Table(
    "login_codes",
    metadata,
    Column("phone", String(20), primary_key=True),
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
)

chats = Table(
    "chats",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", String(128), nullable=False, server_default=""),
    Column("description", String(1024), nullable=False, server_default=""),
    Column("owner_id", BigInteger, nullable=True),
    Column("is_public", Boolean, nullable=False, server_default="0"),
    # "<low user id>:<high user id>" for direct chats: one direct chat per pair.
    Column("direct_key", String(48), nullable=True, unique=True),
    Column("last_seq", BigInteger, nullable=False, server_default="0"),
    Column("last_message_id", BigInteger, nullable=True),
    Column("member_count", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
)

members = Table(
    "members",
    metadata,
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("joined_at", BigInteger, nullable=False),
    Column("last_read_seq", BigInteger, nullable=False, server_default="0"),
    Index("ix_members_user", "user_id", "chat_id"),
)

# Which stretch of the event stream a user may see of a chat: from the event that let them in
# to the event that let them out (both included). A rejoin opens a new span.
membership_spans = Table(
    "membership_spans",
    metadata,
    Column("id", Id, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("from_pos", BigInteger, nullable=False),
    Column("to_pos", BigInteger, nullable=True),
    Index("ix_spans_user", "user_id", "chat_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True),
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("sender_id", BigInteger, nullable=True),
    # Chosen by the sending client; (sender_id, client_id) makes a repeated send harmless.
    Column("client_id", String(64), nullable=True),
    Column("kind", String(16), nullable=False, server_default="text"),
    Column("text", Text, nullable=False, server_default=""),
    Column("reply_to", BigInteger, nullable=True),
    # JSON: {"chat_id", "message_id", "sender_id"} of the original.
    Column("forward_of", Text, nullable=True),
    # JSON body of a system message: {"action", ...}.
    Column("system", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("edited_at", BigInteger, nullable=True),
    Column("deleted", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("chat_id", "seq", name="uq_messages_chat_seq"),
    UniqueConstraint("sender_id", "client_id", name="uq_messages_sender_client"),
)

# The event stream. `pos` is handed out under the lock on `streams`, so positions become
# visible in order and a reader never sees pos N+1 before pos N.
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
    Index("ix_events_chat_pos", "chat_id", "pos"),
    Index("ix_events_user_pos", "user_id", "pos"),
)

# One row per stream shard; today one shard, id 0. The row lock serialises position handout.
streams = Table(
    "streams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("pos", BigInteger, nullable=False),
)

# Hash banks (safety): named lists of MD5, SHA-256 and PDQ hashes with their own thresholds.
# `version` goes up with every change to the bank or its hashes, under the bank's row lock,
# so another server process can load exactly the hash rows it has not seen yet.
banks = Table(
    "banks",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("source", String(256), nullable=False, server_default=""),
    Column("category", String(64), nullable=False, server_default=""),
    Column("entity", String(128), nullable=False, server_default=""),
    Column("pdq_threshold", Integer, nullable=False, server_default="31"),
    Column("quality_floor", Integer, nullable=False, server_default="50"),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    # refuse | review; ignored by negative banks, which never act.
    Column("action", String(16), nullable=False, server_default="review"),
    # Known false positives: a match here cancels the action of other banks' matches.
    Column("negative", Boolean, nullable=False, server_default="0"),
    Column("version", BigInteger, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

bank_hashes = Table(
    "bank_hashes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("bank_id", ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    # md5 | sha256 | pdq; `hash` holds the raw bytes (16, 32, 32).
    Column("signal", String(8), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    # JSON object of labels (category, entity, anything the source gave).
    Column("labels", Text, nullable=False, server_default="{}"),
    # The bank version that last touched this row; removed rows stay as tombstones so other
    # processes learn of the removal by the same version scan.
    Column("version", BigInteger, nullable=False),
    Column("removed", Boolean, nullable=False, server_default="0"),
    Column("added_at", BigInteger, nullable=False),
    UniqueConstraint("bank_id", "signal", "hash", name="uq_bank_hashes_hash"),
    Index("ix_bank_hashes_version", "bank_id", "version"),
)

# Every match of an upload against a bank, acted on or not (the transparency report counts
# these).
matches = Table(
    "matches",
    metadata,
    Column("id", Id, primary_key=True),
    # What was checked: the caller's reference (e.g. "media:123" or the upload's SHA-256).
    Column("subject", String(128), nullable=False),
    Column("bank_id", BigInteger, nullable=True),
    Column("bank_name", String(64), nullable=False),
    Column("bank_hash_id", BigInteger, nullable=True),
    Column("signal", String(8), nullable=False),
    # Hex of the checked hash (the upload's), and of the banked one it matched.
    Column("query_hash", String(64), nullable=False),
    Column("banked_hash", String(64), nullable=False),
    Column("distance", Integer, nullable=False),
    # refuse | review | cancelled (a negative bank matched too) | none (a negative match).
    Column("outcome", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_matches_created", "created_at"),
)
