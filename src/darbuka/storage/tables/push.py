"""Web Push: the browsers' subscriptions, and what was last pushed per person and chat."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, String, Table

from darbuka.storage.tables.base import Id, metadata

__all__ = ["push_notices", "push_subscriptions"]

# One row per browser's `PushSubscription`, owned by the device that made it: revoking the
# device deletes its subscriptions (the foreign key).
push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("endpoint", String(2048), nullable=False, unique=True),
    # The browser's P-256 public key and auth secret (base64url), for RFC 8291 encryption.
    Column("p256dh", String(128), nullable=False),
    Column("auth", String(64), nullable=False),
    # Off: notifications say "New message", never what it says.
    Column("previews", Boolean, nullable=False, server_default="1"),
    Column("created_at", BigInteger, nullable=False),
)

# Per person and chat, the state the last push job looked at — so a job that finishes
# while more arrived runs again (`still_needed`) — and whether a notification is showing
# (a read elsewhere then closes it).
push_notices = Table(
    "push_notices",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("seen_seq", BigInteger, nullable=False, server_default="0"),
    Column("seen_read", BigInteger, nullable=False, server_default="0"),
    Column("shown", Boolean, nullable=False, server_default="0"),
    # When the last notification went (the queue's wall-clock ms): the next waits a while.
    Column("sent_at", BigInteger, nullable=False, server_default="0"),
    # A reaction to their message not pushed yet: JSON {"by": user id, "emoji"}.
    Column("reaction", String(128), nullable=True),
)
