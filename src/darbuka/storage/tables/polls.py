"""Polls' votes. A poll itself is a message (kind `poll`, its definition in `messages.poll`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, SmallInteger, String, Table

from darbuka.storage.tables.base import metadata

__all__ = ["poll_ballots", "poll_votes"]

# What each voter chose now: a row per chosen option (several in a multiple-choice poll).
poll_votes = Table(
    "poll_votes",
    metadata,
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("option", SmallInteger, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Every vote request a client made, by its client id, forever (as sends' `client_id`): a
# repeat — an outbox sending again after a dropped answer — changes nothing, even after a
# later vote of the same person replaced it.
poll_ballots = Table(
    "poll_ballots",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("client_id", String(64), primary_key=True),
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
