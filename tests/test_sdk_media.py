"""SDK media: tus uploads that resume after a dropped link or a restart, and media sends
through the outbox that happen exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from darbuka.client import Backoff, Client, LocalStore, TusUploader
from darbuka.media.worker import Bounded
from tests.conftest import LiveServer, make_server
from tests.helpers import Api


def noise_png(path: Path, side: int = 400) -> bytes:
    """A real PNG that does not compress (about 3 bytes a pixel)."""
    pixels = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "PNG")
    path.write_bytes(out.getvalue())
    return out.getvalue()


async def until(check: Callable[[], Awaitable[Any]], within: float = 30.0) -> Any:
    """Poll an async condition with a deadline (server state has no event to wait on)."""
    async with asyncio.timeout(within):
        while not (result := await check()):  # noqa: ASYNC110 - polling with a deadline
            await asyncio.sleep(0.02)
        return result


class StallingProxy:
    """Passes `budget` bytes towards the server, then holds the link open and silent (an
    upload stuck half-way, as on a train going into a tunnel) until `cut` drops every
    link; after that it passes everything."""

    def __init__(self, target_port: int, budget: int) -> None:
        self.target_port = target_port
        self.budget = budget
        self.passed = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._up(reader, up_writer), self._down(up_reader, writer))

    async def _up(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while self.passed < self.budget and (data := await reader.read(4096)):
                data = data[:self.budget - self.passed]
                self.passed += len(data)
                writer.write(data)
                await writer.drain()

    async def _down(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(4096):
                writer.write(data)
                await writer.drain()

    def cut(self) -> None:
        self.budget = 1 << 62
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def stop(self) -> None:
        self._server.close()
        self.cut()


async def test_upload_resumes_after_a_cut_without_resending(server: LiveServer, alice: Api,
                                                             tmp_path: Path) -> None:
    data = hashlib.sha256(b"seed").digest() * 8_192  # 256 KiB that does not compress
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    uploads = server.app.state.services.uploads
    before = uploads.bytes_received
    proxy = StallingProxy(server.thread.port, budget=100_000)
    port = await proxy.start()
    seen: list[int] = []
    try:
        async with Client(f"http://127.0.0.1:{port}", alice.token) as client:
            client.uploader = TusUploader(client, backoff=Backoff(base=0.02, cap=0.2))
            task = asyncio.create_task(client.upload(
                path, "file", progress=lambda sent, total: seen.append(sent)))
            # Let the server take in what got through (the tail of a body that comes
            # together with the disconnect is dropped by the HTTP server), then cut.
            await until(lambda: _has(uploads.bytes_received - before >= 95_000))
            first_part = uploads.bytes_received - before
            proxy.cut()
            media_id = await task
    finally:
        await proxy.stop()
    # Every byte reached the server exactly once: the first part was not sent again.
    assert 0 < first_part < len(data)
    assert uploads.bytes_received - before == len(data)
    assert first_part in seen, "the resume did not start where the server was"
    assert seen[-1] == len(data)
    view = await until(lambda: _ready(alice, media_id))
    assert view["size"] == len(data)
    original = await asyncio.to_thread(alice.call, "GET", f"/media/{media_id}/original")
    assert original.content == data


async def _ready(api: Api, media_id: str) -> dict[str, Any] | None:
    view: dict[str, Any] = await asyncio.to_thread(api.ok, "GET", f"/media/{media_id}")
    assert view["state"] != "failed", view
    return view if view["state"] == "ready" else None


async def test_restarted_client_resumes_the_upload_and_sends_once(
        server: LiveServer, alice: Api, bob: Api, tmp_path: Path) -> None:
    chat_id = alice.group("photos", [bob])["id"]
    photo = tmp_path / "noise.png"
    data = noise_png(photo)
    store = tmp_path / "device.db"
    uploads = server.app.state.services.uploads
    before = uploads.bytes_received
    proxy = StallingProxy(server.thread.port, budget=len(data) // 2)
    port = await proxy.start()
    try:
        first = Client(f"http://127.0.0.1:{port}", alice.token, store=store, chunk_size=1 << 20)
        await first.start()
        client_id = await first.send_file(chat_id, photo, caption="a noisy one")
        await until(lambda: _has(uploads.bytes_received - before >= proxy.budget - 2000))
        await first.close()  # the process ends with the upload half done
    finally:
        await proxy.stop()
    pending = await asyncio.to_thread(_offset, alice, (await _upload_ids(store))[0])
    assert 0 < pending < len(data)

    second = Client(server.url, alice.token, store=store)
    progress: list[tuple[str, int, int]] = []
    second.on_upload.append(lambda cid, sent, total: progress.append((cid, sent, total)))
    async with second:  # a new process, same device file: resumes, then sends
        await second.flush(timeout=60)
        assert await second.pending() == []
    assert progress[0][0] == client_id
    assert progress[0][1] >= pending  # started where the server was, not at zero
    assert progress[-1][1:] == (len(data), len(data))
    assert uploads.bytes_received - before == len(data)
    messages = [m for m in await asyncio.to_thread(alice.history, chat_id)
                if m.get("kind") == "photo"]
    assert len(messages) == 1
    assert messages[0]["client_id"] == client_id
    assert messages[0]["text"] == "a noisy one"
    assert messages[0]["media"]["mime"] == "image/png"


async def _has(value: bool) -> bool:
    return value


def _offset(api: Api, upload_id: str) -> int:
    head = api.call("HEAD", f"/uploads/{upload_id}", expect=200,
                    headers={"Tus-Resumable": "1.0.0"})
    return int(head.headers["upload-offset"])


async def _upload_ids(store: Path) -> list[str]:
    local = LocalStore(store)
    try:
        return [row[4] for row in await local.uploads_pending() if row[4]]
    finally:
        local.close()


@pytest.fixture
def impatient_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """Answers 409 media_not_ready after a tenth of a second instead of ten."""
    srv = make_server(database_url, tmp_path / "srv", media_send_wait_s=0.1)
    yield srv
    srv.thread.stop()


async def test_media_not_ready_is_retried_with_the_same_client_id(
        impatient_server: LiveServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = impatient_server.sign_up("Alice"), impatient_server.sign_up("Bob")
    chat_id = alice.group("slow media", [bob])["id"]
    gate = threading.Event()
    real_run = Bounded.run

    def held_run(*args: Any) -> Any:
        gate.wait(30)  # processing takes as long as the test wants
        return real_run(*args)

    monkeypatch.setattr(Bounded, "run", held_run)
    photo = tmp_path / "small.png"
    noise_png(photo, side=64)
    async with Client(impatient_server.url, alice.token, store=tmp_path / "d.db") as client:
        client_id = await client.send_file(chat_id, photo, kind="photo")
        # The server refused the send as not ready at least once; the outbox keeps it.
        await until(lambda: client.store.attempts(client_id))
        assert [i.client_id for i in await client.pending()] == [client_id]
        gate.set()
        await client.flush(timeout=30)
    photos = [m for m in alice.history(chat_id) if m.get("kind") == "photo"]
    assert [m["client_id"] for m in photos] == [client_id]
