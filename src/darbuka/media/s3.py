"""The object store on an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, Ceph, R2 ...), through
obstore's async client.

Retries are short on purpose: a store that does not answer within a few seconds turns into
`StorageUnavailable` (503) for the request that needed it, instead of holding the request
for minutes. obstore has no call to make a bucket, so `start` sends S3's CreateBucket as a
request signed by obstore itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import obstore
from obstore.exceptions import BaseError
from obstore.store import S3Store

from darbuka.errors import StorageUnavailable
from darbuka.media.objects import CHUNK, ObjectInfo, check_name

if TYPE_CHECKING:
    from obstore import ObjectMeta

__all__ = ["S3ObjectStore"]

_RETRIES: Any = {"max_retries": 2, "retry_timeout": timedelta(seconds=5),
                 "backoff": {"init_backoff": timedelta(milliseconds=100),
                             "max_backoff": timedelta(seconds=1), "base": 2}}


@contextlib.contextmanager
def _answering(what: str) -> Iterator[None]:
    """A store that fails for any reason but a missing object is one that is unavailable."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (BaseError, OSError, httpx.HTTPError) as exc:
        raise StorageUnavailable(f"file storage is unavailable ({what}); try again "
                                 "shortly") from exc


def _info(meta: ObjectMeta) -> ObjectInfo:
    return ObjectInfo(meta["path"], int(meta["size"]),
                      int(meta["last_modified"].timestamp() * 1000))


class S3ObjectStore:
    def __init__(self, *, bucket: str, endpoint: str = "", access_key: str = "",
                 secret_key: str = "", region: str = "us-east-1") -> None:
        # Any: obstore's TypedDicts, filled in one key at a time below.
        options: Any = {"connect_timeout": timedelta(seconds=3),
                                   "timeout": timedelta(seconds=300)}
        config: Any = {"region": region or "us-east-1"}
        if endpoint:
            # A store of one's own: path-style addresses, plain HTTP allowed on its address.
            config["endpoint"] = endpoint
            config["virtual_hosted_style_request"] = False
            options["allow_http"] = endpoint.startswith("http://")
        if access_key:
            config["access_key_id"] = access_key
            config["secret_access_key"] = secret_key
        self.bucket = bucket
        self._region = config["region"]
        self._store = S3Store(bucket, config=config, client_options=options,
                              retry_config=_RETRIES)

    def local_path(self, name: str) -> Path | None:
        return None

    async def start(self) -> None:
        """Make the bucket when it does not exist (listing it tells)."""
        try:
            await obstore.list_with_delimiter_async(self._store, "darbuka-probe/")
            return
        except FileNotFoundError:  # some stores' answer for a missing bucket
            pass
        except (BaseError, OSError) as exc:
            if "NoSuchBucket" not in str(exc):
                raise StorageUnavailable(f"the bucket {self.bucket!r} cannot be reached: "
                                         f"{str(exc).splitlines()[0][:300]}") from exc
        with _answering("making the bucket"):
            url = await obstore.sign_async(self._store, "PUT", "", timedelta(minutes=1))
            body = b"" if self._region == "us-east-1" else (
                "<CreateBucketConfiguration><LocationConstraint>"
                f"{self._region}</LocationConstraint></CreateBucketConfiguration>").encode()
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.put(url, content=body)
        # 409: made meanwhile by another process starting at the same moment.
        if response.status_code not in (200, 409):
            raise StorageUnavailable(f"the bucket {self.bucket!r} could not be made: "
                                     f"{response.status_code} {response.text[:200]}")

    async def put_file(self, name: str, path: Path, *, move: bool = False) -> None:
        with _answering("storing a file"):
            await obstore.put_async(self._store, check_name(name), path)
        if move:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def put_bytes(self, name: str, data: bytes) -> None:
        with _answering("storing a file"):
            await obstore.put_async(self._store, check_name(name), data)

    async def head(self, name: str) -> ObjectInfo | None:
        try:
            with _answering("looking up a file"):
                return _info(await obstore.head_async(self._store, check_name(name)))
        except FileNotFoundError:
            return None

    async def open(self, name: str, start: int = 0,
                   end: int | None = None) -> AsyncIterator[bytes]:
        options: Any = {}
        if start or end is not None:
            options["range"] = (start, end) if end is not None else {"offset": start}
        with _answering("reading a file"):
            result = await obstore.get_async(self._store, check_name(name), options=options)
        return self._chunks(result)

    async def _chunks(self, result: Any) -> AsyncIterator[bytes]:
        with _answering("reading a file"):
            async for chunk in result.stream(min_chunk_size=CHUNK):
                yield bytes(chunk)

    async def delete(self, name: str) -> None:
        with _answering("deleting a file"):
            await obstore.delete_async(self._store, check_name(name))

    async def scan(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        with _answering("listing files"):
            async for batch in obstore.list(self._store, prefix, chunk_size=1000):
                for meta in batch:
                    yield _info(meta)
