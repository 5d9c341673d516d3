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
    "admin_rights",
    "bank_hashes",
    "banks",
    "blocks",
    "bot_callbacks",
    "bot_subscriptions",
    "bots",
    "chats",
    "contacts",
    "devices",
    "events",
    "handles",
    "invites",
    "login_codes",
    "matches",
    "media",
    "media_hashes",
    "media_refs",
    "members",
    "membership_spans",
    "messages",
    "metadata",
    "post_stats",
    "post_views",
    "privacy",
    "reactions",
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
    # Staff role: user | moderator | operator. Set only by operators (`darbuka admin set-role`).
    Column("role", String(16), nullable=False, server_default="user"),
    # active | suspended | banned; a suspension ends at `restricted_until` (null: no end).
    Column("status", String(16), nullable=False, server_default="active"),
    Column("restricted_until", BigInteger, nullable=True),
    # Reports from trusted flaggers (DSA Art. 22) go ahead of other users' reports.
    Column("trusted_flagger", Boolean, nullable=False, server_default="0"),
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
    # Closed by moderation: nobody posts, nobody joins, it is not found in search.
    Column("closed", Boolean, nullable=False, server_default="0"),
    Column("avatar", String(32), nullable=True),
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
    # How far the member's devices have received the chat (never behind last_read_seq
    # once they read; a member's own sends move only last_read_seq, see `delivered_seq`).
    Column("last_delivered_seq", BigInteger, nullable=False, server_default="0"),
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
    # Hidden by moderation (a removal or an authority's order): shown as removed, and its
    # content kept only in the preserved copy until reinstated or purged.
    Column("removed", Boolean, nullable=False, server_default="0"),
    # JSON descriptor of the attached media (id, sizes, ThumbHash, waveform...), kinds != text.
    Column("media", Text, nullable=True),
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

# -- social: contacts, privacy, public handles, invite links, reactions, views ------------

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

# One namespace for user @usernames and group/channel @handles. `key` is the normalised
# form (NFKC, casefold); `skeleton` folds look-alike letters (0/o, 1/l/i, …) so a handle that
# looks like a verified account's can be refused.
handles = Table(
    "handles",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("skeleton", String(32), nullable=False, index=True),
    Column("user_id", BigInteger, nullable=True, unique=True),
    Column("chat_id", BigInteger, nullable=True, unique=True),
    # Whose it is: the user, or the chat's owner.
    Column("owner_id", BigInteger, nullable=False),
)

invites = Table(
    "invites",
    metadata,
    Column("id", Id, primary_key=True),
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), nullable=False, index=True),
    # SHA-256 of the link's token; the token is shown once, to the admin who made it.
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("max_uses", Integer, nullable=True),
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("revoked", Boolean, nullable=False, server_default="0"),
)

reactions = Table(
    "reactions",
    metadata,
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("emoji", String(32), primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# One row per (post, viewer) who actually viewed it: nothing is written for subscribers who
# never open the post. `post_stats` holds the count so reading it is one row.
post_views = Table(
    "post_views",
    metadata,
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
)

post_stats = Table(
    "post_stats",
    metadata,
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("views", BigInteger, nullable=False, server_default="0"),
)

# Admin rights beyond the role (TamTam's channel admin permissions); no row = all rights.
admin_rights = Table(
    "admin_rights",
    metadata,
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    # Comma-separated: read_all, add_members, remove_members, add_admins, change_info, pin,
    # write.
    Column("rights", String(128), nullable=False),
)

# Columns added to older tables by the social migration.
users.append_column(Column("verified", Boolean, nullable=False, server_default="0"))
chats.append_column(Column("handle", String(32), nullable=True))
# Channels: show the posting admin's name under posts (false: posts are the channel's).
chats.append_column(Column("sign_posts", Boolean, nullable=False, server_default="0"))
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

# One row per upload, from its first byte to its processed variants. The id is a random
# token (it is also the tus upload URL and the download id), so ids cannot be guessed.
media = Table(
    "media",
    metadata,
    Column("id", String(32), primary_key=True),
    # None for media the server made itself (the default sticker pack).
    Column("owner_id", BigInteger, nullable=True),
    Column("kind", String(16), nullable=False),
    # uploading -> processing -> ready | failed | held (a review bank matched: waits for a
    # moderator); ready | held -> removed (a moderator removed it everywhere). Processing
    # rows are resumed at start-up.
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
