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
    "chats",
    "devices",
    "events",
    "login_codes",
    "media",
    "media_hashes",
    "media_refs",
    "members",
    "membership_spans",
    "messages",
    "metadata",
    "sticker_packs",
    "stickers",
    "streams",
    "user_sticker_packs",
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
    # Media id of the profile photo (kind "avatar"), when one is set.
    Column("avatar", String(32), nullable=True),
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
    Column("avatar", String(32), nullable=True),
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
    # JSON descriptor of the attached media (id, sizes, ThumbHash, waveform...), kinds != text.
    Column("media", Text, nullable=True),
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

# One row per upload, from its first byte to its processed variants. The id is a random
# token (it is also the tus upload URL and the download id), so ids cannot be guessed.
media = Table(
    "media",
    metadata,
    Column("id", String(32), primary_key=True),
    # None for media the server made itself (the default sticker pack).
    Column("owner_id", BigInteger, nullable=True),
    Column("kind", String(16), nullable=False),
    # uploading -> processing -> ready | failed. Processing rows are resumed at start-up.
    Column("state", String(16), nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False, server_default="0"),
    Column("filename", String(255), nullable=False, server_default=""),
    # The type sniffed from the bytes, never the client's claim.
    Column("mime", String(64), nullable=True),
    # JSON: what messages carry (sizes, duration, ThumbHash, waveform, variant names).
    Column("info", Text, nullable=True),
    # JSON: {variant: {"key": blob key, "size", "mime"}}.
    Column("variants", Text, nullable=True),
    # JSON {"code", "message"} when processing refused the file.
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    # Unfinished uploads are deleted after this; None once the upload is complete.
    Column("expires_at", BigInteger, nullable=True),
    Index("ix_media_owner", "owner_id", "state"),
    Index("ix_media_state", "state", "expires_at"),
)

# Where media appears: a download is allowed to members of these chats (and the uploader).
media_refs = Table(
    "media_refs",
    metadata,
    Column("media_id", String(32), primary_key=True),
    Column("message_id", BigInteger, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
)

# Hashes for the safety work: MD5/SHA-256 of originals; PDQ (with quality) of images,
# video posters and one video frame per second (`frame` = second).
media_hashes = Table(
    "media_hashes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("media_id", String(32), nullable=False, index=True),
    Column("algo", String(16), nullable=False),
    Column("value", String(64), nullable=False),
    Column("quality", Integer, nullable=True),
    Column("frame", Integer, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_media_hashes_value", "algo", "value"),
)

sticker_packs = Table(
    "sticker_packs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("owner_id", BigInteger, nullable=True),
    Column("title", String(64), nullable=False),
    # The pack drawn by the server itself; every user has it.
    Column("is_default", Boolean, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
)

stickers = Table(
    "stickers",
    metadata,
    Column("pack_id", ForeignKey("sticker_packs.id", ondelete="CASCADE"), primary_key=True),
    Column("media_id", String(32), primary_key=True),
    Column("emoji", String(16), nullable=False, server_default=""),
    Column("position", Integer, nullable=False),
)

user_sticker_packs = Table(
    "user_sticker_packs",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("pack_id", ForeignKey("sticker_packs.id", ondelete="CASCADE"), primary_key=True),
    Column("installed_at", BigInteger, nullable=False),
)
