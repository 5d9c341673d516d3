"""Chats, their members and membership spans, admin rights and invite links; what chat
admins keep: bans, join requests and the admin log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from darbuka.storage.tables.base import Id, metadata

__all__ = ["admin_log", "admin_rights", "chat_bans", "chats", "invites", "join_requests",
           "members", "membership_spans"]

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
    # Who made this member an admin (None: an admin from before this was kept, taken as the
    # owner's). Only the owner and that admin demote, remove or change the rights of an admin.
    Column("promoted_by", BigInteger, nullable=True),
    # The member's own settings for the chat, kept on their membership row because the send
    # path reads that row anyway: a send clears its draft at no extra query when none is
    # kept. A mute lasts until `muted_until` (ms; see services/mutes.py for "until turned
    # off"), checked against the time asked about, so its end needs no write.
    Column("muted_until", BigInteger, nullable=True),
    Column("mute_mentions", Boolean, nullable=False, server_default="0"),
    Column("draft", Text, nullable=True),
    Column("draft_at", BigInteger, nullable=True),
    Index("ix_members_user", "user_id", "chat_id"),
    # A channel's owner and admins hear who joins, leaves and reacts: found without a walk
    # through its subscribers.
    Index("ix_members_role", "chat_id", "role"),
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

chats.append_column(Column("handle", String(32), nullable=True))
# Channels: show the posting admin's name under posts (false: posts are the channel's).
chats.append_column(Column("sign_posts", Boolean, nullable=False, server_default="0"))

# Chat admins' tools (migration 0018). Slow mode: a member who is not an admin posts at most
# once per `slow_mode_s` seconds (0: off). With `join_approval` a join by handle or invite
# link becomes a request that an admin approves or declines.
chats.append_column(Column("slow_mode_s", Integer, nullable=False, server_default="0"))
chats.append_column(Column("join_approval", Boolean, nullable=False, server_default="0"))
# Who made the chat (the side that started a direct chat): new accounts' limits count these.
chats.append_column(Column("created_by", BigInteger, nullable=True))
Index("ix_chats_created_by", chats.c.created_by, chats.c.created_at)
# When the member last posted, for slow mode: set by the send's own member UPDATE.
members.append_column(Column("last_post_at", BigInteger, nullable=True))

# Who may not come back: a banned person is not let in by handle, invite link or an admin.
chat_bans = Table(
    "chat_bans",
    metadata,
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("banned_by", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Waiting to be let into a chat with join_approval; a decided request is deleted (the
# decision stays in the admin log).
join_requests = Table(
    "join_requests",
    metadata,
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

# Every admin action in a chat, for its admins; written in the action's transaction.
admin_log = Table(
    "admin_log",
    metadata,
    Column("id", Id, primary_key=True),
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    Column("actor_id", BigInteger, nullable=False),
    Column("action", String(32), nullable=False),
    Column("target_id", BigInteger, nullable=True),
    # JSON: what changed (the new title, the rights given, the slow mode's seconds …).
    Column("details", Text, nullable=False, server_default="{}"),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_admin_log_chat", "chat_id", "id"),
)
