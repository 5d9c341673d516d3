"""A client process for the outbox test: connect, deliver what is queued, exit 0.

Run as `python -m tests.sdk_sender SERVER TOKEN STORE`; the test kills it mid-way.
"""

from __future__ import annotations

import asyncio
import sys

from darbuka.client import Client


async def main(server: str, token: str, store: str) -> None:
    async with Client(server, token, store=store, window=8) as client:
        await client.flush(timeout=120)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
