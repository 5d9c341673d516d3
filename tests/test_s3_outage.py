"""S3 unavailable: uploads and downloads fail with a clear 503, nothing is half-stored, and
the same upload resumes once the store is back."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from darbuka.media.partials import Partials, PartsMissing
from darbuka.services.uploads import queue_processing
from darbuka.services.writer import Tx
from tests.conftest import LiveServer, make_server
from tests.helpers import wait_until
from tests.media_helpers import TUS, create_upload, patch, upload_ready
from tests.s3_helpers import Weed, new_bucket


@pytest.fixture
def own_weed(tmp_path: Path) -> Iterator[Weed]:
    """A SeaweedFS of this test's own: it is killed and started again."""
    weed = Weed(tmp_path / "weed").start()
    yield weed
    weed.kill()


def _parts(weed: Weed, bucket: str) -> list[str]:
    async def names() -> list[str]:
        return [i.name async for i in weed.store(bucket).scan("partial/")]

    return asyncio.run(names())


def test_uploads_fail_with_503_while_s3_is_down_and_resume_after(
        own_weed: Weed, tmp_path: Path) -> None:
    bucket = new_bucket()
    server: LiveServer = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path / "data",
                                     **own_weed.settings(bucket))
    try:
        alice = server.sign_up("Alice")
        earlier = upload_ready(alice, b"stored before the outage" * 100)
        assert earlier["state"] == "ready"
        data = hashlib.sha256(b"outage").digest() * 8192  # 256 KiB
        upload_id = create_upload(alice, len(data))
        assert patch(alice, upload_id, 0, data[:100_000]).status_code == 204

        own_weed.kill()
        refused = patch(alice, upload_id, 100_000, data[100_000:])
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "storage_unavailable"
        assert refused.headers["tus-resumable"] == "1.0.0"
        # Nothing of the refused body counts: the upload is where it was.
        head = alice.call("HEAD", f"/uploads/{upload_id}", expect=200, headers=TUS)
        assert head.headers["upload-offset"] == "100000"
        download = alice.call("GET", f"/media/{earlier['id']}/original")
        assert download.status_code == 503
        assert download.json()["error"]["code"] == "storage_unavailable"

        own_weed.start()
        assert len(_parts(own_weed, bucket)) == 1  # the first PATCH's part, no other
        done = patch(alice, upload_id, 100_000, data[100_000:])
        assert done.status_code == 204, done.text
        wait_until(lambda: alice.ok("GET", f"/media/{upload_id}")["state"] == "ready",
                   timeout=30, message="processed")
        assert alice.call("GET", f"/media/{upload_id}/original", expect=200).content == data
        assert alice.call("GET", f"/media/{earlier['id']}/original", expect=200).content == \
            b"stored before the outage" * 100
        # Processed: the parts are gone from the store.
        wait_until(lambda: not _parts(own_weed, bucket), timeout=10, message="parts deleted")
    finally:
        server.thread.stop()


@pytest.mark.parametrize("lists_late", [False, True], ids=["back", "back-listing-late"])
def test_processing_waits_for_s3_and_finishes_after(own_weed: Weed, tmp_path: Path,
                                                    lists_late: bool) -> None:
    """Media whose store goes away mid-processing stays `processing` (never `failed`) and
    is ready once the store is back — even when the store, just back, first lists the
    upload's folder without its part (a restarted SeaweedFS on a busy machine did)."""
    bucket = new_bucket()
    server: LiveServer = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path / "data",
                                     **own_weed.settings(bucket))
    try:
        alice = server.sign_up("Alice")
        data = b"processed after the outage" * 100
        media_id = upload_ready(alice, data)["id"]
        rt = server.app.state.runtime
        media = server.app.state.services.media
        media.retry_pauses = (0.05,)

        async def put_part() -> None:
            await Partials(rt.objects).put_bytes(media_id, data)

        async def as_if_just_uploaded(tx: Tx) -> None:
            # What the last byte of an upload leaves: the row processing, its job queued.
            await tx.stores.media.update(tx.conn, media_id, {"state": "processing",
                                                             "variants": None})
            await queue_processing(tx, media_id)

        server.run_async(put_part())
        own_weed.kill()
        waits = media.storage_waits
        server.run_async(rt.writer.run(as_if_just_uploaded))
        wait_until(lambda: media.storage_waits >= waits + 2, timeout=30,
                   message="processing waiting for the store")
        assert alice.ok("GET", f"/media/{media_id}")["state"] == "processing"
        if lists_late:
            partials = media._partials
            chain, calls = partials.chain, []

            async def listed_late(upload_id: str, received: int) -> list[str]:
                calls.append(upload_id)
                if len(calls) == 1:
                    raise PartsMissing(f"the parts of upload {upload_id} are incomplete")
                return await chain(upload_id, received)

            partials.chain = listed_late
        own_weed.start()
        # A restarted SeaweedFS may take a while on a busy machine to serve its volumes again.
        wait_until(lambda: alice.ok("GET", f"/media/{media_id}")["state"] == "ready",
                   timeout=90, message="processed once the store is back")
        assert alice.call("GET", f"/media/{media_id}/original", expect=200).content == data
    finally:
        server.thread.stop()
