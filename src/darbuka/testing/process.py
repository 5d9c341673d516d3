"""`darbuka serve` and `darbuka worker` as processes of their own: for benchmarks and for
tests that kill them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from darbuka.testing.server import Loopback, free_port

__all__ = ["ServerProcess", "WorkerProcess"]


class _Stoppable:
    proc: subprocess.Popen[bytes]
    log: IO[bytes]
    grace_s = 10.0

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine loses power or the OOM killer
        strikes (only the operating system's buffers survive, not the process's; a worker's
        leases run out by themselves)."""
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period."""
        self.proc.terminate()
        try:
            self.proc.wait(self.grace_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class ServerProcess(Loopback, _Stoppable):
    """Settings go in as `DARBUKA_*` variables, exactly as an operator would set them."""

    def __init__(self, data_dir: Path, *, port: int | None = None, **settings: object) -> None:
        self.port = port or free_port()
        env = {**os.environ, "DARBUKA_LOG_LEVEL": "warning",
               **{f"DARBUKA_{k.upper()}": str(v) for k, v in settings.items()}}
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



class WorkerProcess(_Stoppable):
    """`darbuka worker`; settings as `DARBUKA_*` variables. Ready once it logs that it runs
    jobs (it serves nothing to ask)."""

    def __init__(self, data_dir: Path, **settings: object) -> None:
        env = {**os.environ, "DARBUKA_LOG_LEVEL": "info",
               **{f"DARBUKA_{k.upper()}": str(v) for k, v in settings.items()}}
        self.log_path = data_dir / f"worker-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("ab")  # closed in stop() or kill()
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "darbuka", "worker", "--data-dir", str(data_dir)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while b"running jobs" not in self.log_path.read_bytes():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the worker exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not start in 30 s")
            time.sleep(0.1)

    grace_s = 15.0  # its jobs are put back before it exits
