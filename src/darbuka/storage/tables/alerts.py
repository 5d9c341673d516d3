"""Who is alerted when a removal order or an urgent report arrives, and each alert sent."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from darbuka.storage.tables.base import Id, metadata

__all__ = ["alert_recipients", "alerts"]

# The on-call list. `tier` 1 is alerted at once, 2 (operators) when an order is still not
# decided after the first escalation, 3 (everyone else on the list) after the second.
alert_recipients = Table(
    "alert_recipients",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("channel", String(16), nullable=False),  # email | webhook | chat
    # An e-mail address, an https URL, or a chat id (as text).
    Column("target", String(500), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("created_by", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

# One row per (subject, level): an order's receipt is level 1, its escalations 2 and 3.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject", String(40), nullable=False),  # "order:12", "item:40"
    Column("level", Integer, nullable=False),
    Column("summary", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("acknowledged_at", BigInteger, nullable=True),
    Column("acknowledged_by", BigInteger, nullable=True),
    Index("ix_alerts_subject", "subject", "level", unique=True),
)
