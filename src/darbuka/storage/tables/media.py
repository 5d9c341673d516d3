"""Uploaded media, where it is used, its hashes, and sticker packs."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from darbuka.storage.tables.base import Id, metadata

__all__ = ["media", "media_hashes", "media_refs", "sticker_packs", "stickers", "user_sticker_packs"]

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
    # The message was removed by moderation: the ref lets nobody download the media, and
    # its uploader may not attach it again (kept, so reinstating the message restores it).
    Column("removed", Boolean, nullable=False, server_default="0"),
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
