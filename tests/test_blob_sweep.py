"""The blob sweep deletes what nothing refers to and no preservation hold covers: stray blobs,
the files of removed media once their hold is over, the parts of uploads that are gone.
It keeps blobs media uses, removed media still held, young files and live uploads' parts.
Run as `darbuka admin sweep-blobs`, on the folder store and on S3."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from darbuka.container import sweep_stored_files
from darbuka.media.blobs import BlobStore
from darbuka.safety.effects import PRESERVE_MS
from tests.conftest import LiveServer, make_server
from tests.helpers import Api
from tests.media_helpers import create_upload, patch, upload_ready
from tests.s3_helpers import new_bucket

LONG_AGO = int(time.time() * 1000) - 2 * PRESERVE_MS


@pytest.fixture(params=["files", "s3"])
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "files":
        return {}
    return dict(request.getfixturevalue("seaweed").settings(new_bucket()))


@pytest.fixture
def sweep_server(store_settings: dict[str, Any], tmp_path: Path) -> Iterator[LiveServer]:
    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, **store_settings)
    yield srv
    srv.thread.stop()


def _keys(server: LiveServer, media_id: str) -> set[str]:
    rt = server.app.state.runtime

    async def load() -> set[str]:
        async with rt.db.read() as conn:
            row = await rt.stores.media.get(conn, media_id)
        return {v["key"] for v in orjson.loads(row["variants"]).values()}

    return set(server.run_async(load()))


def _removed(server: LiveServer, media_id: str, *, preserved: bool) -> None:
    """As a moderator's removal long ago leaves it: with a preserved copy kept, or not."""
    rt = server.app.state.runtime

    async def remove() -> None:
        async with rt.db.write() as conn:
            await rt.stores.media.update(conn, media_id, {"state": "removed"})
            item = await rt.stores.safety.add_item(
                conn, source="report", priority=3, target_type="media", target_id=0,
                target_key=media_id, chat_id=None, created_at=LONG_AGO, report_count=1,
                status="decided", decision="remove_media", decided_at=LONG_AGO)
            if preserved:  # e.g. kept longer on an authority's request
                await rt.stores.safety.preserve(
                    conn, target_type="message", target_id=1, content="{}", reason="report",
                    item_id=item, preserved_at=LONG_AGO, keep_until=LONG_AGO + 3 * PRESERVE_MS)

    server.run_async(remove())


def _forget_upload(server: LiveServer, upload_id: str) -> None:
    """Its row gone but its parts left, as a process that died mid-delete leaves it."""
    rt = server.app.state.runtime

    async def forget() -> None:
        async with rt.db.write() as conn:
            await rt.stores.media.delete(conn, upload_id)

    server.run_async(forget())


def _stored(server: LiveServer) -> tuple[set[str], set[str]]:
    objects = server.app.state.runtime.objects

    async def load() -> tuple[set[str], set[str]]:
        blobs = {key async for key, _ in BlobStore(objects).stored()}
        parts = {i.name.split("/")[1] async for i in objects.scan("partial/")}
        return blobs, parts

    blobs, parts = server.run_async(load())
    return set(blobs), set(parts)


def _admin_sweep(server: LiveServer, store_settings: dict[str, Any]) -> str:
    env = {**os.environ, "DARBUKA_DATABASE_URL": server.settings.database_url,
           **{f"DARBUKA_{k.upper()}": str(v) for k, v in store_settings.items()}}
    out = subprocess.run([sys.executable, "-m", "darbuka", "admin", "sweep-blobs",
                          "--grace-s", "0", "--data-dir", str(server.settings.data_dir)],
                         capture_output=True, text=True, env=env, timeout=120, check=True)
    return out.stdout


def test_the_sweep_deletes_only_what_nothing_holds(sweep_server: LiveServer,
                                                   store_settings: dict[str, Any]) -> None:
    alice: Api = sweep_server.sign_up("Alice")
    in_use = upload_ready(alice, b"a file someone sent" * 50)["id"]
    held = upload_ready(alice, b"removed, its copy preserved" * 50)["id"]
    gone = upload_ready(alice, b"removed long ago, nothing preserved" * 50)["id"]
    _removed(sweep_server, held, preserved=True)
    _removed(sweep_server, gone, preserved=False)
    stray, _ = sweep_server.run_async(
        BlobStore(sweep_server.app.state.runtime.objects).put_bytes(b"stored, never recorded"))
    going = create_upload(alice, 1000)
    assert patch(alice, going, 0, b"x" * 400).status_code == 204
    dropped = create_upload(alice, 1000)
    assert patch(alice, dropped, 0, b"y" * 400).status_code == 204
    _forget_upload(sweep_server, dropped)
    blobs, parts = _stored(sweep_server)
    assert stray in blobs
    assert _keys(sweep_server, gone) <= blobs
    assert parts == {going, dropped}

    # Everything is younger than the grace: a sweep now keeps it all.
    report = sweep_server.run_async(sweep_stored_files(sweep_server.app.state.runtime))
    assert (report.blobs_deleted, report.parts_deleted) == (0, 0)
    assert _stored(sweep_server) == (blobs, parts)

    printed = _admin_sweep(sweep_server, store_settings)
    after, parts_after = _stored(sweep_server)
    assert _keys(sweep_server, in_use) <= after
    assert _keys(sweep_server, held) <= after
    assert not _keys(sweep_server, gone) & after
    assert stray not in after
    assert parts_after == {going}
    assert f"deleted {len(blobs - after)} blobs and 1 upload parts" in printed
    # What is kept still downloads.
    original = alice.call("GET", f"/media/{in_use}/original", expect=200)
    assert original.content == b"a file someone sent" * 50
