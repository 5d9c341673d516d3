"""Trust and safety: the queue, reports, decisions, removal orders, appeals, preserved
copies and the audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from darbuka.storage.tables.base import Id, metadata

__all__ = ["appeals", "audit_log", "held_sends", "link_held_sends", "moderation_items",
           "moderator_settings", "preserved", "removal_orders", "reports", "statements"]

# One row per thing that needs a moderator's decision. Reports of the same target share an
# open item. `priority`: 0 authority order, 1 trusted referral, 2 hash match, 3 user report.
moderation_items = Table(
    "moderation_items",
    metadata,
    Column("id", Id, primary_key=True),
    Column("source", String(16), nullable=False),  # order | referral | hash_match | report
    Column("priority", Integer, nullable=False),
    Column("target_type", String(16), nullable=False),  # message | user | chat | media
    Column("target_id", BigInteger, nullable=False),
    # Media ids are strings: a media item (and a message item decided by remove_media)
    # names its media here; target_id is 0 for a media item.
    Column("target_key", String(64), nullable=True),
    Column("chat_id", BigInteger, nullable=True),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("report_count", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    # The legal clock of an order; null for everything else.
    Column("due_at", BigInteger, nullable=True),
    Column("decision", String(32), nullable=True),
    Column("decided_by", BigInteger, nullable=True),
    Column("decided_at", BigInteger, nullable=True),
    # Who is working on it (`safety/claims.py`): a claim lapses CLAIM_MS after claimed_at.
    Column("claimed_by", BigInteger, nullable=True),
    Column("claimed_at", BigInteger, nullable=True),
    Index("ix_items_queue", "status", "priority", "created_at"),
    Index("ix_items_target", "target_type", "target_id", "status"),
    Index("ix_items_target_key", "target_key"),
)

# A moderator's own settings for the console's previews (blur, colour, ...), as JSON: they
# follow the moderator from device to device (`safety/previews.py`).
moderator_settings = Table(
    "moderator_settings",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("settings", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Sends held for review because a link in them is in a URL bank whose action is `review`
# (`safety/heldsends.py`): the message is not stored until a moderator lets it through.
# Its queue item names it (target_type `send`, target_id this id). A repeat of the send
# (its client_id) finds this row instead of holding it twice.
link_held_sends = Table(
    "link_held_sends",
    metadata,
    Column("id", Id, primary_key=True),
    Column("sender_id", BigInteger, nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("item_id", BigInteger, nullable=False),
    # JSON: the send's text, reply_to, forward_of, media_id, kind, album and keyboard.
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),  # held | sent | refused
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("sender_id", "client_id", name="uq_link_held_sends_client"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Id, primary_key=True),
    Column("reporter_id", BigInteger, nullable=False, index=True),
    Column("target_type", String(16), nullable=False),
    Column("target_id", BigInteger, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("note", String(1000), nullable=False, server_default=""),
    Column("item_id", BigInteger, nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("outcome", String(32), nullable=True),
)

# Statements of reasons (DSA Art. 17), one per affected user per decision. `body` holds the
# fields of the DSA Transparency Database (see safety/statements.py).
statements = Table(
    "statements",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("item_id", BigInteger, nullable=True),
    Column("decision", String(32), nullable=False),
    Column("target_type", String(16), nullable=False),
    Column("target_id", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("decided_by", BigInteger, nullable=True),
    # reversed after an appeal or a withdrawn order
    Column("reversed_at", BigInteger, nullable=True),
)

# Removal orders (Regulation 2021/784 Art. 3) with the fields of Annex I.
removal_orders = Table(
    "removal_orders",
    metadata,
    Column("id", Id, primary_key=True),
    Column("submitted_by", BigInteger, nullable=False),  # the authority's account or operator
    Column("channel", String(16), nullable=False),  # api | mail
    Column("issuing_authority", String(256), nullable=False),
    Column("issuing_state", String(2), nullable=False, server_default=""),
    Column("reference", String(128), nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("location", String(2048), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("item_id", BigInteger, nullable=False),
    # received | disabled | executed | not_executed | withdrawn
    Column("state", String(16), nullable=False),
    Column("action_at", BigInteger, nullable=True),
    # Annex II (executed) or Annex III (could not execute) as sent back, JSON.
    Column("response", Text, nullable=True),
    Column("alerted_at", BigInteger, nullable=True),
    Index("ix_orders_reference", "issuing_authority", "reference"),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", Id, primary_key=True),
    Column("statement_id", BigInteger, nullable=False, index=True),
    Column("user_id", BigInteger, nullable=False),
    Column("text", String(4000), nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),  # open|upheld|reversed
    Column("created_at", BigInteger, nullable=False),
    Column("decided_by", BigInteger, nullable=True),
    Column("decided_at", BigInteger, nullable=True),
    Column("reply", String(4000), nullable=False, server_default=""),
)

# Preserved copies of removed content and its related data (Art. 6): operators only.
preserved = Table(
    "preserved",
    metadata,
    Column("id", Id, primary_key=True),
    Column("target_type", String(16), nullable=False),
    Column("target_id", BigInteger, nullable=False),
    Column("content", Text, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("item_id", BigInteger, nullable=True),
    Column("preserved_at", BigInteger, nullable=False),
    Column("keep_until", BigInteger, nullable=False, index=True),
    # When the removal this copy records (by `item_id`) was undone: a message stays removed
    # while any removal of it stands.
    Column("reinstated_at", BigInteger, nullable=True),
    Index("ix_preserved_target", "target_type", "target_id"),
)

# Append-only; each record carries the hash of the one before it (a chain anyone can check).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("actor_id", BigInteger, nullable=True),
    Column("action", String(48), nullable=False),
    Column("target", String(64), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
)

# Sends held by anti-spam (the same content into many chats) until a moderator decides their
# queue item (`item_id`, about the sender): dismissed, they are posted; otherwise they stay
# here, never delivered. One per (sender, client_id), like the messages they would be.
held_sends = Table(
    "held_sends",
    metadata,
    Column("id", Id, primary_key=True),
    Column("item_id", BigInteger, nullable=False, index=True),
    Column("sender_id", BigInteger, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("client_id", String(64), nullable=False),
    # JSON: text, media_ids, reply_to, forward_of — what the send asked for.
    Column("request", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ux_held_sender_client", "sender_id", "client_id", unique=True),
)
