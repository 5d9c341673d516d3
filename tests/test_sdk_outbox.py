"""The outbox under failure: a killed process and a link that keeps dropping lose nothing
and double nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from darbuka.client import Backoff, Client, LocalStore
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until

ROOT = Path(__file__).resolve().parent.parent


def all_texts(api: Api, chat_id: int) -> list[str]:
    texts: list[str] = []
    after = 0
    while page := api.history(chat_id, after=after, limit=200):
        texts += [m.get("text", "") for m in page if m.get("kind", "text") == "text"]
        after = page[-1]["seq"]
    return texts


def sender(server: LiveServer, token: str, store: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.sdk_sender", server.url, token,
                             str(store)], cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)})


def test_killed_client_resends_exactly_once(server: LiveServer, alice: Api, bob: Api,
                                            tmp_path: Path) -> None:
    chat_id = alice.group("outbox", [bob])["id"]
    store_path = tmp_path / "outbox.db"
    store = LocalStore(store_path)
    asyncio.run(store.enqueue((chat_id, f"m{i}") for i in range(1000)))
    store.close()
    assert alice.token is not None
    first = sender(server, alice.token, store_path)
    wait_until(lambda: alice.ok("GET", f"/chats/{chat_id}")["last_seq"] > 150, timeout=60,
               message="the first process to send some")
    first.send_signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    sent_before = len(all_texts(alice, chat_id))
    assert sent_before < 1000, "killed too late to prove anything"
    second = sender(server, alice.token, store_path)
    assert second.wait(120) == 0
    texts = all_texts(alice, chat_id)
    assert len(texts) == 1000
    assert sorted(texts) == sorted(f"m{i}" for i in range(1000))


class CuttingProxy:
    """Forwards loopback TCP to the server and cuts every connection every `period` s, and
    also after a random 8-24 KB (so a fast machine gets cut mid-stream too)."""

    def __init__(self, target_port: int, period: float) -> None:
        self.target_port = target_port
        self.period = period
        self.cuts = 0
        self._links: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self._cutter = asyncio.get_running_loop().create_task(self._cut_forever())
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._links |= {writer, up_writer}
        budget = random.randint(8_000, 24_000)
        await asyncio.gather(self._pipe(reader, up_writer, writer, budget),
                             self._pipe(up_reader, writer, up_writer, budget))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    other: asyncio.StreamWriter, budget: int) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(4096):
                writer.write(data)
                await writer.drain()
                budget -= len(data)
                if budget < 0:
                    self.cuts += 1
                    other.transport.abort()
                    break
        writer.transport.abort()
        self._links.discard(writer)

    async def _cut_forever(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            self.cuts += 1
            for writer in tuple(self._links):
                writer.transport.abort()

    async def stop(self) -> None:
        self._cutter.cancel()
        self._server.close()
        for writer in tuple(self._links):
            writer.transport.abort()


async def test_dropping_link_loses_and_doubles_nothing(server: LiveServer, alice: Api,
                                                       bob: Api) -> None:
    chat_id = alice.group("flaky", [bob])["id"]
    proxy = CuttingProxy(server.thread.port, period=0.7)
    port = await proxy.start()
    count = 400
    try:
        async with Client(f"http://127.0.0.1:{port}", alice.token, window=8,
                          backoff=Backoff(base=0.05, cap=0.5)) as client:
            events = client.events()
            await client.send_many((chat_id, f"f{i}") for i in range(count))
            seen: list[int] = []
            async with asyncio.timeout(120):
                async for event in events:
                    message = event.data.get("message", {})
                    if event.type == "message.new" and message.get("chat_id") == chat_id:
                        seen.append(message["id"])
                        if len(seen) == count:
                            break
                await client.flush()
    finally:
        await proxy.stop()
    assert proxy.cuts >= 3, "the link never dropped while sending"
    assert len(set(seen)) == len(seen)
    texts = await asyncio.to_thread(all_texts, alice, chat_id)
    assert sorted(texts) == sorted(f"f{i}" for i in range(count))
