"""Tables, one module per concept; importing this package registers all of them on
`metadata` (what migrations compare against)."""

from darbuka.storage.tables import (  # noqa: F401 - imported to register their tables
    accounts,
    alerts,
    banks,
    bots,
    chats,
    events,
    imports,
    installation,
    jobs,
    media,
    messages,
    people,
    polls,
    push,
    safety,
    scheduled,
    search,
)
from darbuka.storage.tables.base import metadata

__all__ = ["metadata"]
