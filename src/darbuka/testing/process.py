"""`darbuka serve` as a process of its own: for benchmarks and for tests that kill it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from darbuka.testing.server import Loopback, free_port

__all__ = ["ServerProcess"]


class ServerProcess(Loopback):
    """Settings go in as `DARBUKA_*` variables, exactly as an operator would set them."""

    def __init__(self, data_dir: Path, *, port: int | None = None, **settings: str) -> None:
        self.port = port or free_port()
        env = {**os.environ, "DARBUKA_LOG_LEVEL": "warning",
               **{f"DARBUKA_{k.upper()}": v for k, v in settings.items()}}
        self.log = open(data_dir / "server.log", "ab")  # closed in stop() or kill()
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "darbuka", "serve", "--data-dir", str(data_dir),
             "--port", str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited; see server.log")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not start in 30 s")

    def rss_bytes(self) -> int:
        """Resident memory now, from /proc (Linux)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine loses power or the OOM killer
        strikes (only the operating system's buffers survive, not the process's)."""
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
