"""`Client`: the HTTP API plus one WebSocket that carries live events and the outbox.

The socket resumes from the last cursor after every drop (exponential backoff with full
jitter), replays what was missed, then sends every queued message that the server has
not acknowledged, each under the client id it got when it was queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from darbuka.backoff import Backoff
from darbuka.client.http import ApiError, HttpApi
from darbuka.client.models import Event, OutboxItem, User
from darbuka.client.store import LocalStore
from darbuka.client.uploads import KINDS, Progress, TusUploader, file_size, guess_kind

__all__ = ["Client", "EventStream"]

log = logging.getLogger("darbuka.client")

# Server error codes after which a send is retried; any other error fails it for good.
# `media_not_ready`: the server is still processing the upload; the same send succeeds later.
RETRY_CODES = frozenset({"internal", "rate_limited", "media_not_ready"})
CURSOR_SAVE_EVERY_S = 0.5
STATES = ("offline", "connecting", "online", "signed_out")


class _SignedOut(Exception):
    pass


class Client(HttpApi):
    """An async Darbuka client. `store` is the outbox/cursor file (":memory:" by default).

    ```
    async with Client("http://127.0.0.1:8080", token, store="me.db") as client:
        await client.send(chat_id, "hi")      # queued, survives a restart
        async for event in client.events():   # resumes from the saved cursor
            ...
    ```
    """

    def __init__(self, server: str, token: str | None = None, *,
                 store: str | Path | LocalStore = ":memory:", window: int = 64,
                 backoff: Backoff | None = None, chunk_size: int = 1 << 20) -> None:
        super().__init__(server, token)
        self.uploader = TusUploader(self, chunk_size=chunk_size)
        # Called as (client_id, bytes the server holds, total) for every outbox upload.
        self.on_upload: list[Callable[[str, int, int], None]] = []
        self._uploads: dict[str, asyncio.Task[None]] = {}
        self._upload_progress: dict[str, Progress] = {}
        self.store = store if isinstance(store, LocalStore) else LocalStore(store)
        self.state = "offline"
        self.on_state: list[Callable[[str], None]] = []
        self._ws_url = self.server.replace("http", "ws", 1) + "/api/v1/ws"
        self._window = window
        self._backoff = backoff or Backoff(base=0.2, cap=15.0)
        self._retry = Backoff(base=0.5, cap=60.0)
        self._upload_retry = Backoff(base=0.5, cap=60.0)
        self._cursor: str | None = None
        self._saved_cursor: str | None = None
        self._saved_at = 0.0
        self._handled: str | None = None
        self._queue: asyncio.Queue[Event] | None = None
        self._stream: EventStream | None = None
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._started = False

    async def __aenter__(self) -> Client:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background (and keep reconnecting) until `close`. Without a token
        (none given, none in the store) it connects after `sign_in`."""
        self._started = True
        if self.token is None:
            stored = await self.store.get("token")
            if stored:
                self.use_token(stored)
        self._cursor = self._saved_cursor = self._handled = await self.store.get("cursor")
        await self._connect_if_signed_in()

    async def _connect_if_signed_in(self) -> None:
        if self.token is None or not self._started:
            return
        await self.store.put("token", self.token)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="darbuka-ws")
        await self._resume_uploads()

    async def sign_in(self, phone: str, code: str, *, device_name: str = "sdk") -> User:
        user = await super().sign_in(phone, code, device_name=device_name)
        await self._connect_if_signed_in()
        return user

    async def close(self) -> None:
        self._closing = True
        for upload in tuple(self._uploads.values()):
            upload.cancel()
        await asyncio.gather(*self._uploads.values(), return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # A clean close means the program is done with the last event it took.
        last = self._stream.last if self._stream is not None else None
        if last is not None and last.cursor is not None:
            self._handled = last.cursor
        await self._save_cursor(force=True)
        await self.aclose()
        self.store.close()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            for callback in self.on_state:
                callback(state)

    # -- the outbox -----------------------------------------------------------------------

    async def send(self, chat_id: int, text: str, *,
                   markup: Sequence[Mapping[str, Any]] | None = None) -> str:
        """Queue a message; returns its client id. Delivered once, even across restarts.

        `markup`: ranges over `text` in the server's unit, UTF-16 code units (from Python
        string indexes: `darbuka.markup.from_code_points`). The server checks them: bad
        ones fail the send for good with `invalid_markup`."""
        stored = orjson.dumps(list(markup)).decode() if markup else None
        (client_id,) = await self.store.enqueue([(chat_id, text)], markup=stored)
        self._wake.set()
        return client_id

    async def send_many(self, items: Iterable[tuple[int, str]]) -> list[str]:
        ids = await self.store.enqueue(items)
        self._wake.set()
        return ids

    async def send_file(self, chat_id: int, path: str | Path, *, kind: str | None = None,
                        caption: str = "", progress: Progress | None = None) -> str:
        """Queue a media message: the file is uploaded (resumably, also across restarts),
        then the message is sent once with its `media_id`. Returns the client id.

        `kind` is photo, voice, video, sticker or file (guessed from the name if None).
        Read the file until `flush` returns: a restart resumes from it."""
        kind = kind or guess_kind(path)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        file = Path(os.path.abspath(path))  # noqa: ASYNC240 - no disk I/O
        size = file_size(file)
        if size is None:
            raise FileNotFoundError(file)
        client_id = await self.store.enqueue_file(chat_id, str(file), size, kind, caption)
        if progress is not None:
            self._upload_progress[client_id] = progress
        await self._resume_uploads()
        return client_id

    async def upload(self, path: str | Path, kind: str | None = None, *,
                     progress: Progress | None = None) -> str:
        """Upload a file now (resuming over dropped links); returns its media id. Not
        kept in the outbox: use `send_file` for a send that survives a restart."""
        return await self.uploader.upload(path, kind or guess_kind(path), progress=progress)

    async def _resume_uploads(self) -> None:
        if self.token is None or not self._started or self._closing:
            return
        for client_id, file, size, kind, media_id in await self.store.uploads_pending():
            if client_id not in self._uploads:
                self._uploads[client_id] = asyncio.get_running_loop().create_task(
                    self._upload_job(client_id, Path(file), size, kind, media_id),
                    name=f"darbuka-upload-{client_id}")

    async def _upload_job(self, client_id: str, file: Path, size: int, kind: str,
                          media_id: str | None) -> None:
        own = self._upload_progress.pop(client_id, None)

        def progress(sent: int, total: int) -> None:
            if own is not None:
                own(sent, total)
            for callback in self.on_upload:
                callback(client_id, sent, total)

        try:
            if file_size(file) != size:
                await self.store.fail(client_id, "file_changed")
                return
            while True:
                try:
                    if media_id is None:
                        media_id = await self.uploader.create(size, kind, file.name)
                        await self.store.set_upload(client_id, media_id, done=False)
                    await self.uploader.send(file, media_id, progress=progress)
                    break
                except (httpx.TransportError, ApiError) as exc:
                    if isinstance(exc, ApiError) and not exc.transient:
                        await self.store.fail(client_id, exc.code)
                        return
                    await asyncio.sleep(self._upload_retry.next_delay())
            self._upload_retry.reset()
            await self.store.set_upload(client_id, media_id, done=True)
        finally:
            self._uploads.pop(client_id, None)
            self._progress.set()
            self._wake.set()

    async def pending(self) -> list[OutboxItem]:
        return await self.store.pending()

    async def flush(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - a deadline for the whole wait
        """Wait until the server has acknowledged (or refused) every queued send."""
        async with asyncio.timeout(timeout):
            while await self.store.count_unsent():
                self._progress.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self._progress.wait()

    # -- live events ----------------------------------------------------------------------

    def events(self) -> EventStream:
        """Events in stream order, from the moment of this call. The cursor is saved once
        you move past an event (or close the client), so a restarted program resumes after
        the last event it handled (at least once: a crash may replay up to half a second
        of events)."""
        stream = self._stream = EventStream(self)
        self._queue = stream.queue
        return stream

    async def _save_cursor(self, *, cursor: str | None = None, force: bool = False) -> None:
        # With a consumer, only what it has moved past counts as handled.
        cursor = cursor or (self._handled if self._queue is not None else self._cursor)
        if cursor is None or cursor == self._saved_cursor:
            return
        now = time.monotonic()
        if force or now - self._saved_at >= CURSOR_SAVE_EVERY_S:
            self._saved_cursor, self._saved_at = cursor, now
            await self.store.put("cursor", cursor)

    def _emit(self, event: Event) -> None:
        if self._queue is not None:
            self._queue.put_nowait(event)

    # -- the socket -----------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._closing:
            self._set_state("connecting")
            try:
                async with connect(self._ws_url, max_size=2**22, open_timeout=10,
                                   ping_interval=20, ping_timeout=20,
                                   close_timeout=2) as ws:
                    await self._session(ws)
            except _SignedOut:
                self._set_state("signed_out")
                return
            except (OSError, TimeoutError, WebSocketException) as exc:
                if isinstance(exc, InvalidStatus) and exc.response.status_code == 401:
                    self._set_state("signed_out")
                    return
                log.debug("connection lost: %r", exc)
            except Exception:
                # A bug must not end delivery for good: log it and start a new session.
                log.exception("client session failed")
            self._set_state("offline")
            await asyncio.sleep(self._backoff.next_delay())

    async def _session(self, ws: ClientConnection) -> None:
        auth: dict[str, Any] = {"type": "auth", "token": self.token}
        if self._cursor is not None:
            auth["cursor"] = self._cursor
        await ws.send(orjson.dumps(auth).decode())
        ready = asyncio.Event()
        inflight: dict[str, OutboxItem] = {}
        pump = asyncio.get_running_loop().create_task(self._pump(ws, ready, inflight))
        try:
            async for raw in ws:
                await self._on_frame(orjson.loads(raw), ready, inflight)
                if pump.done():
                    pump.result()  # a send that failed on the wire ends the session
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketException, OSError):
                await pump

    async def _on_frame(self, frame: dict[str, Any], ready: asyncio.Event,
                        inflight: dict[str, OutboxItem]) -> None:
        kind = frame.get("type")
        if kind == "ack":
            await self._acked(frame, inflight)
        elif kind == "error":
            await self._refused(frame, inflight)
        elif kind in ("ready", "reset"):
            self._cursor = frame["cursor"]
            if kind == "reset":
                self._emit(Event("reset", frame["cursor"], frame))
            ready.set()
            self._backoff.reset()
            self._set_state("online")
        elif kind == "typing":
            self._emit(Event("typing", None, frame))
        elif kind != "pong" and isinstance(kind, str) and "cursor" in frame:
            self._cursor = frame["cursor"]
            self._emit(Event(kind, frame["cursor"], frame))
        if self._queue is None:
            await self._save_cursor()

    async def _acked(self, frame: dict[str, Any], inflight: dict[str, OutboxItem]) -> None:
        client_id = frame.get("id")
        if "cursor" in frame:
            # A new message we sent on this socket: it reaches us as an ack in stream order.
            self._cursor = frame["cursor"]
            self._emit(Event("message.new", frame["cursor"], {"message": frame["message"]}))
        # A repeat ack has no cursor: its event came before (in a replay or an earlier ack).
        if isinstance(client_id, str):
            inflight.pop(client_id, None)
            await self.store.done([client_id])
        self._progress.set()
        self._wake.set()

    async def _refused(self, frame: dict[str, Any], inflight: dict[str, OutboxItem]) -> None:
        client_id = frame.get("id")
        error = frame.get("error") or {}
        if not isinstance(client_id, str) or client_id not in inflight:
            if error.get("code") in ("unauthorized", "invalid_token"):
                raise _SignedOut()
            log.warning("server error: %s", error)
            return
        inflight.pop(client_id)
        code = str(error.get("code"))
        if code in RETRY_CODES:
            attempts = await self.store.attempts(client_id)
            await self.store.retry_later(client_id, self._retry.delay_for(attempts))
        else:
            await self.store.fail(client_id, code)
        self._progress.set()
        self._wake.set()

    async def _pump(self, ws: ClientConnection, ready: asyncio.Event,
                    inflight: dict[str, OutboxItem]) -> None:
        """Keep up to `window` sends on the wire, oldest first."""
        await ready.wait()
        while True:
            self._wake.clear()
            room = self._window - len(inflight)
            items = await self.store.due(limit=room, exclude=set(inflight),
                                         now=time.time()) if room > 0 else []
            for item in items:
                inflight[item.client_id] = item
                frame: dict[str, Any] = {
                    "type": "send", "id": item.client_id, "client_id": item.client_id,
                    "chat_id": item.chat_id, "text": item.text}
                if item.media_id is not None:
                    frame |= {"media_id": item.media_id, "kind": item.kind}
                if item.markup is not None:
                    frame["markup"] = orjson.loads(item.markup)
                await ws.send(orjson.dumps(frame).decode())
            if items and len(inflight) < self._window:
                continue
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        due = await self.store.next_due_at()
        wait = 5.0 if due is None else min(5.0, max(0.01, due - time.time()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._wake.wait()


class EventStream:
    """`async for event in client.events()`; one consumer at a time."""

    def __init__(self, client: Client) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self._client = client
        self.last: Event | None = None

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        last, self.last = self.last, None
        if last is not None and last.cursor is not None:
            self._client._handled = last.cursor
            await self._client._save_cursor(cursor=last.cursor)
        self.last = await self.queue.get()
        return self.last
