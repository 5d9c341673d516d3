"""The send path's cost does not grow with the batch: a constant number of statements."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

from darbuka.services.sending import check_send, store_sends
from darbuka.services.uploads import MEDIA_JOB
from tests.conftest import LiveServer
from tests.helpers import Api, Socket, wait_until
from tests.media_helpers import jpeg, upload_ready

# BEGIN, membership, repeats, seq lock, insert, new ids, last message, read marker, positions,
# events, who of the chats' members has a push subscription, and the search index (its
# side table and the full-text table), in the send's own transaction.
STATEMENTS_PER_BATCH = 13


def test_a_batch_of_sends_costs_a_fixed_number_of_statements(server: LiveServer, alice: Api,
                                                             bob: Api) -> None:
    chat = alice.direct(bob)
    runtime = server.app.state.runtime
    statements: list[str] = []
    sock = Socket(server.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
    sock.ready()  # sign-in and catch-up are done: from here on only sends touch the database
    with runtime.db.watch_statements(statements.append):
        batches_before = runtime.writer.batches
        total = 300
        for i in range(total):
            sock.send_json({"type": "send", "id": i, "chat_id": chat["id"],
                            "client_id": f"hot-{i}", "text": "x"})
        wait_until(lambda: sum(f["type"] == "ack" for f in _frames(sock)) == total,
                   message="acks")
        sock.close()
    batches = runtime.writer.batches - batches_before
    assert batches < total  # sends did share transactions
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO MESSAGES")]
    assert len(inserts) <= batches
    assert len(statements) <= STATEMENTS_PER_BATCH * batches


def _frames(sock: Socket) -> list[dict[str, Any]]:
    while True:
        try:
            sock.recv(timeout=0.05)
        except TimeoutError:
            return sock.frames


def test_a_photo_sent_in_the_same_commit_as_a_text_keeps_its_media(server: LiveServer,
                                                                    alice: Api,
                                                                    bob: Api) -> None:
    """Rows of one batch insert share their keys: a text first must not drop the next
    message's media (its history would show a photo without a picture)."""
    chat = alice.direct(bob)
    media_id = upload_ready(alice, jpeg(), "photo", "p.jpg")["id"]
    # The processing job settles in a shared transaction of its own: let it, first.
    server.run_async(server.app.state.jobs.idle(MEDIA_JOB))
    writer = server.app.state.runtime.writer

    async def send_together() -> list[Any]:
        # Queued in one tick, straight onto the writer (the media is ready already): the
        # writer takes both into one transaction, the text first.
        futures = [writer.submit(store_sends, check_send(alice.id, chat["id"], f"batch-{i}",
                                                         text, media_id=media, kind=kind))
                   for i, (text, media, kind) in enumerate([("hello", None, None),
                                                            ("caption", media_id, "photo")])]
        return list(await asyncio.gather(*futures))

    batches_before = writer.batches
    text, photo = server.run_async(send_together())
    assert writer.batches == batches_before + 1  # one transaction
    stored = {m["id"]: m for m in bob.history(chat["id"])}
    assert "media" not in stored[text.message["id"]]
    assert stored[photo.message["id"]]["media"]["id"] == media_id
    assert stored[photo.message["id"]]["kind"] == "photo"


def test_no_dependency_hops_to_a_thread(server: LiveServer) -> None:
    """FastAPI runs a dependency that is a plain function in a worker thread: on every
    request that uses it, a thread hop and back (it was 9% of the loop's time under HTTP
    load for a dependency that read one attribute)."""
    from fastapi.dependencies.models import Dependant
    from fastapi.routing import APIRoute

    def calls(dependant: Dependant) -> Iterator[Any]:
        for sub in dependant.dependencies:
            yield sub.call
            yield from calls(sub)

    def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            elif (included := getattr(route, "original_router", None)) is not None:
                yield from api_routes(included.routes)
            elif (mounted := getattr(route, "app", None)) is not None and hasattr(mounted,
                                                                                  "routes"):
                yield from api_routes(mounted.routes)  # the Bot API is an app of its own

    routes = list(api_routes(server.app.routes))
    assert len(routes) > 50
    plain = {f"{c.__module__}.{c.__qualname__}" for r in routes for c in calls(r.dependant)
             if c is not None and not inspect.iscoroutinefunction(c)}
    assert not plain, plain


class _Statements:
    """Every statement the server runs while counting."""

    def __init__(self, server: LiveServer) -> None:
        self._db = server.app.state.runtime.db
        self.seen: list[str] = []
        self._watch: Any = None

    def __enter__(self) -> _Statements:
        self._watch = self._db.watch_statements(self.seen.append)
        self._watch.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._watch.__exit__(*exc)


# Measured; a change that adds a statement to these paths fails here, as a count.
# An HTTP send: BEGIN, membership, repeats, seq lock, insert, new ids, last message, read
# marker, positions, events, push subscribers, the search index's two rows (the caller's
# account comes from the principal cache).
HTTP_SEND_STATEMENTS = 13
# A long poll that finds nothing: BEGIN, head and oldest kept event (is the cursor too far
# behind?), BEGIN, one page read. On PostgreSQL (whose driver's BEGIN is not counted) the
# head is the look of the stream's proof (outside the transaction), and the page reads it
# too: look, oldest, look, page (docs/architecture.md, several writers on PostgreSQL).
EMPTY_SYNC_STATEMENTS = 5
# A socket signing in with a fresh cursor, its account not cached: BEGIN, device and user;
# BEGIN, head, chat ids (routing); BEGIN, the device still there (a revocation racing the
# sign-in); then as an empty sync. PostgreSQL: the look in place of the head, the positions
# past it already committed (the hub's routing), no BEGINs, and the empty sync as above.
SOCKET_SIGN_IN_STATEMENTS = 13


def test_the_http_send_sync_and_sign_in_paths_cost_a_fixed_number_of_statements(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    alice.send(chat["id"], "warm")
    cursor = alice.sync()["cursor"]
    with _Statements(server) as sends:
        for n in range(10):
            alice.send(chat["id"], f"counted {n}")
    now = alice.sync()["cursor"]
    with _Statements(server) as syncs:
        page = alice.ok("GET", "/sync", params={"cursor": now})
    assert page["events"] == []
    sock_cursor = alice.sync()["cursor"]
    server.app.state.runtime.services.auth.principals.forget_user(alice.id)  # a cold sign-in
    with _Statements(server) as sign_in:
        sock = Socket(server.ws_url, alice.token or "", cursor=sock_cursor)
        sock.ready()
    sock.close()
    print(f"statements: {len(sends.seen) / 10} per HTTP send, {len(syncs.seen)} per empty "
          f"sync, {len(sign_in.seen)} per socket sign-in")
    assert cursor
    assert len(sends.seen) <= HTTP_SEND_STATEMENTS * 10, sends.seen
    assert len(syncs.seen) <= EMPTY_SYNC_STATEMENTS, syncs.seen
    assert len(sign_in.seen) <= SOCKET_SIGN_IN_STATEMENTS, sign_in.seen


def test_writes_of_two_kinds_queued_interleaved_still_share_transactions(
        server: LiveServer, alice: Api, bob: Api) -> None:
    """Under load sends, marks and jobs settling reach the writer interleaved: each kind
    still takes one transaction for all of its waiting writes, not one per neighbour."""
    chat = alice.direct(bob)
    writer = server.app.state.runtime.writer

    async def settle(_tx: Any, items: list[int]) -> list[int]:  # another kind of write
        return items

    async def interleaved() -> list[Any]:
        futures: list[Any] = []
        for i in range(10):
            futures.append(writer.submit(store_sends, check_send(
                alice.id, chat["id"], f"mixed-{i}", f"m{i}")))
            futures.append(writer.submit(settle, i))
        return list(await asyncio.gather(*futures))

    before = writer.commits
    results = server.run_async(interleaved())
    # Two kinds, two transactions (a background write may slip in between: at most two).
    assert writer.commits - before <= 4, writer.commits - before
    assert [r.message["text"] for r in results[::2]] == [f"m{i}" for i in range(10)]
    assert results[1::2] == list(range(10))


def test_a_writer_stopped_mid_queue_leaves_no_caller_waiting(tmp_path: Any) -> None:
    """Writes taken off the queue but not yet run when the writer stops are cancelled, so
    their callers stop waiting rather than hang."""
    from darbuka.container import build_runtime, open_storage
    from darbuka.services.writer import Writer
    from darbuka.settings import Settings

    async def scenario() -> list[bool]:
        runtime = build_runtime(Settings(data_dir=tmp_path))
        await open_storage(runtime)
        started = asyncio.Event()

        async def slow(_tx: Any, items: list[int]) -> list[int]:
            started.set()
            await asyncio.sleep(30)
            return items

        async def quick(_tx: Any, items: list[int]) -> list[int]:
            return items

        writer = Writer(runtime.db, runtime.stores, runtime.clock, lambda _events: None)
        writer.start()
        futures = [writer.submit(slow, 1), writer.submit(quick, 2)]
        await started.wait()
        await writer.stop()
        await asyncio.sleep(0)
        await runtime.db.dispose()
        return [f.cancelled() for f in futures]

    assert asyncio.run(scenario()) == [True, True]
