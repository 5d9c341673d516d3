"""Messages, their reactions, and channel post views."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from darbuka.storage.tables.base import Id, metadata

__all__ = ["messages", "post_stats", "post_views", "reactions"]

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
    # JSON ranges over `text`: [{"type", "from", "length", "url"?, "user_id"?}], offsets in
    # UTF-16 code units (darbuka.markup); NULL when the text is plain.
    Column("markup", Text, nullable=True),
    # JSON of a poll (kind `poll`; the question is `text`): {"options", "multiple",
    # "anonymous", "quiz", "correct"?, "explanation"?, "close_at"?, "closed_at"?}. The quiz's
    # answer never leaves the server through `message_view` (services/polls.py).
    Column("poll", Text, nullable=True),
    UniqueConstraint("chat_id", "seq", name="uq_messages_chat_seq"),
    UniqueConstraint("sender_id", "client_id", name="uq_messages_sender_client"),
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
