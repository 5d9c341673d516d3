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
    "bot_callbacks",
    "bot_subscriptions",
    "bots",
    "chats",
    "devices",
    "events",
    "login_codes",
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
    # The message pinned at the top of the chat, if any.
    Column("pinned_message_id", BigInteger, nullable=True),
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
    # JSON rows of buttons a bot attached: [[{"type", "text", "payload"|"url"}]].
    Column("keyboard", Text, nullable=True),
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
