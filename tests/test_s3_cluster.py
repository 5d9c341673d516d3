"""Files on S3 are not tied to one host: three `darbuka serve` processes (real OS processes,
each with a data folder of its own) share one PostgreSQL database and one SeaweedFS. A photo
begun through the first, cut off mid-body, is resumed through the second and downloaded
through the third, ranges included."""

from __future__ import annotations

import asyncio
import io
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess
from tests.conftest import _pg_admin
from tests.helpers import Api, wait_until
from tests.media_helpers import TUS, create_upload, jpeg, patch
from tests.s3_helpers import Weed, new_bucket


@pytest.fixture
def fresh_pg(pg_url: str) -> Iterator[str]:
    """A database of this test's own on the test PostgreSQL."""
    name = f"darbuka_s3_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_pg_admin(pg_url, f'CREATE DATABASE "{name}"'))
    yield pg_url.rsplit("/", 1)[0] + "/" + name
    asyncio.run(_pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _token(env: dict[str, str], data_dir: Path, phone: str) -> str:
    out = subprocess.run([sys.executable, "-m", "darbuka", "admin", "issue-token", "--phone",
                          phone, "--data-dir", str(data_dir)], capture_output=True, text=True,
                         env=env, check=True, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def _spooled(data_dir: Path, upload_id: str) -> int:
    """How much of a PATCH body the server process has taken in so far."""
    return sum(p.stat().st_size for p in data_dir.glob(f"media/spool/{upload_id}.*"))


def _cut_patch(server: ServerProcess, data_dir: Path, token: str, upload_id: str,
               data: bytes, sent: int) -> None:
    """A PATCH announcing the whole body whose link drops after `sent` bytes were sent and
    the server took in at least half of them (what it has not read at the drop is lost)."""
    host = urlsplit(server.url)
    with socket.create_connection((host.hostname, host.port)) as sock:
        sock.sendall((f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\n"
                      f"Host: {host.netloc}\r\nAuthorization: Bearer {token}\r\n"
                      "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                      "Content-Type: application/offset+octet-stream\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:sent])
        wait_until(lambda: _spooled(data_dir, upload_id) >= sent // 2, timeout=20,
                   message="the server taking the body in")


def test_an_upload_moves_between_three_processes(fresh_pg: str, seaweed: Weed,
                                                 tmp_path: Path) -> None:
    bucket = new_bucket()
    shared = {"database_url": fresh_pg, "secret_key": secrets.token_hex(32),
              **seaweed.settings(bucket), **LIFTED_WRITE_LIMITS}
    env = {**os.environ, "DARBUKA_LOG_LEVEL": "warning",
           **{f"DARBUKA_{k.upper()}": str(v) for k, v in shared.items()}}
    dirs = [tmp_path / name for name in ("first", "second", "third")]
    for folder in dirs:
        folder.mkdir()
    token = _token(env, dirs[0], "+447700900555")
    servers = [ServerProcess(folder, **{k: str(v) for k, v in shared.items()})
               for folder in dirs]
    try:
        first, second, third = (Api(s.url, token) for s in servers)
        data = jpeg(1600, 1200)
        upload_id = create_upload(first, len(data), kind="photo", filename="big.jpg")
        half = len(data) // 2
        _cut_patch(servers[0], dirs[0], token, upload_id, data, half)
        # The second process sees where the cut left the upload: the first stored the part.
        offset = wait_until(lambda: int(second.call("HEAD", f"/uploads/{upload_id}",
                                                    expect=200, headers=TUS)
                                        .headers["upload-offset"]) or None,
                            timeout=20, message="the cut part stored")
        assert 0 < offset <= half
        done = patch(second, upload_id, offset, data[offset:])
        assert done.status_code == 204, done.text
        view = wait_until(lambda: (v := third.ok("GET", f"/media/{upload_id}"))["state"]
                          in ("ready", "failed") and v, timeout=60, message="processed")
        assert view["state"] == "ready", view
        assert {"thumb", "screen", "original"} <= set(view["variants"])
        whole = third.call("GET", f"/media/{upload_id}/original", expect=200).content
        with Image.open(io.BytesIO(whole)) as image:
            assert image.size == (1600, 1200)
        ranged = third.call("GET", f"/media/{upload_id}/original", expect=206,
                            headers={"Range": "bytes=1000-4999"})
        assert ranged.content == whole[1000:5000]
        assert ranged.headers["content-range"] == f"bytes 1000-4999/{len(whole)}"
        # Each process also serves what the others stored.
        assert first.call("GET", f"/media/{upload_id}/thumb", expect=200).content == \
            second.call("GET", f"/media/{upload_id}/thumb", expect=200).content
    finally:
        for server in servers:
            server.stop()
    # Nothing of the file was kept on any process's own disk.
    for folder in dirs:
        assert not list(folder.glob("media/blobs/**/*"))
        assert not [p for p in folder.glob("media/partial/**/*") if p.is_file()]
