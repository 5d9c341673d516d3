"""The object store on a real S3 bucket (SeaweedFS): the bucket is made at start, blobs go in,
come back whole and by range, and go; an upload's parts are found from 0 to `received`."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from darbuka.media.blobs import BlobStore, name_of
from darbuka.media.partials import Partials
from tests.s3_helpers import Weed, new_bucket


def test_blobs_on_s3(seaweed: Weed, tmp_path: Path) -> None:
    async def check() -> None:
        objects = seaweed.store(new_bucket())
        await objects.start()  # the bucket did not exist: it is made
        await objects.start()  # and a second start finds it
        blobs = BlobStore(objects)
        data = hashlib.sha256(b"x").digest() * 400_000  # 12.8 MB: stored in parts (multipart)
        source = tmp_path / "original"
        source.write_bytes(data)
        key, size = await blobs.put_file(source)
        assert (key, size) == (hashlib.sha256(data).hexdigest(), len(data))
        assert source.exists()  # copied, not taken
        assert await blobs.size(key) == len(data)
        assert await blobs.read_all(key) == data
        ranged = b"".join([c async for c in await blobs.open(key, 1000, 2_500_000)])
        assert ranged == data[1000:2_500_000]
        tail = b"".join([c async for c in await blobs.open(key, len(data) - 5)])
        assert tail == data[-5:]
        small, _ = await blobs.put_bytes(b"hello")
        assert sorted(k for k, _ in [s async for s in blobs.stored()]) == sorted([key, small])
        await blobs.delete(key)
        assert await blobs.size(key) is None
        assert await objects.head(name_of(key)) is None
        assert [k async for k, _ in blobs.stored()] == [small]

    asyncio.run(check())


def test_upload_parts_on_s3(seaweed: Weed, tmp_path: Path) -> None:
    async def check() -> None:
        objects = seaweed.store(new_bucket())
        await objects.start()
        partials = Partials(objects)
        data = bytes(range(256)) * 64
        for start, end in [(0, 1000), (1000, 5000), (1000, 3000), (5000, len(data))]:
            piece = tmp_path / f"piece-{start}"
            piece.write_bytes(data[start:end])
            assert await partials.put("up1", start, piece) == end
        # The part 1000-3000 was stored but never recorded: the path goes round it.
        assert len(await partials.chain("up1", len(data))) == 3
        assert await partials.read("up1", 5000, 1200) == data[:1200]
        whole = tmp_path / "whole"
        await partials.materialise("up1", len(data), whole)
        assert whole.read_bytes() == data
        assert set(await partials.stored()) == {"up1"}
        await partials.delete("up1")
        assert await partials.stored() == {}

    asyncio.run(check())
