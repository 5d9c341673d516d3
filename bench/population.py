"""Make the benchmark's users, tokens and chats straight in the database, before serving.

Setup is not what we measure, so it runs in-process with SQLite syncing less; the server
that is measured afterwards runs with the shipped defaults.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from darbuka.container import build_runtime, open_storage
from darbuka.settings import Settings

__all__ = ["Population", "populate"]


@dataclass
class Population:
    tokens: list[str] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    # chat id -> indexes into tokens/user_ids of its members
    chats: dict[int, list[int]] = field(default_factory=dict)


async def populate(data_dir: Path, *, users: int, chat_size: int,
                   database_url: str = "") -> Population:
    """`users` users; consecutive runs of `chat_size` of them share one group chat.
    `database_url` "" is SQLite in `data_dir`, as the server then uses."""
    settings = Settings(data_dir=data_dir, database_url=database_url,
                        sqlite_synchronous="NORMAL")
    runtime = build_runtime(settings)
    await open_storage(runtime)
    runtime.writer.start()
    services = runtime.services
    pop = Population()
    try:
        issued = await asyncio.gather(*(
            services.auth.do_issue_token(f"+4479{i:08d}", name=f"Bench {i}")
            for i in range(users)))
        for token, user in issued:
            pop.tokens.append(token)
            pop.user_ids.append(int(user["id"]))
        for start in range(0, users - chat_size + 1, chat_size):
            members = list(range(start, start + chat_size))
            chat, _ = await services.chats.do_create(pop.user_ids[start], {
                "kind": "group", "title": f"Bench {start // chat_size}",
                "member_ids": [pop.user_ids[i] for i in members[1:]]})
            pop.chats[int(chat["id"])] = members
    finally:
        await runtime.writer.stop()
        await runtime.db.dispose()
    return pop
