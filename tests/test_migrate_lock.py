"""Processes that start at once on a fresh PostgreSQL database: one migrates, the others
wait for it under the advisory lock, and every one of them comes up (real OS processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from darbuka.testing import free_port
from tests.conftest import own_pg_database


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """An empty database of its own: no schema, no alembic_version."""
    yield from own_pg_database("darbuka_migrate")


def _darbuka(*args: str, url: str, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DARBUKA_DATABASE_URL": url, "DARBUKA_SECRET_KEY": "shared",
           "DARBUKA_LOG_LEVEL": "warning"}
    return subprocess.Popen([sys.executable, "-m", "darbuka", *args, "--data-dir",
                             str(data_dir)], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)


def test_two_migrations_at_once_both_succeed(fresh_pg: str, tmp_path: Path) -> None:
    procs = [_darbuka("migrate", url=fresh_pg, data_dir=tmp_path / str(i),
                      log=tmp_path / f"migrate{i}.log") for i in range(2)]
    codes = [p.wait(60) for p in procs]
    logs = [(tmp_path / f"migrate{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], logs
    assert all("the database schema is current" in log for log in logs)


def test_two_servers_starting_at_once_on_a_fresh_database_both_serve(
        fresh_pg: str, tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    procs = [_darbuka("serve", "--port", str(port), url=fresh_pg,
                      data_dir=tmp_path / str(i), log=tmp_path / f"serve{i}.log")
             for i, port in enumerate(ports)]
    try:
        deadline = time.monotonic() + 60
        up: set[int] = set()
        while len(up) < 2 and time.monotonic() < deadline:
            for i, (proc, port) in enumerate(zip(procs, ports, strict=True)):
                assert proc.poll() is None, (tmp_path / f"serve{i}.log").read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/v1/health",
                                 timeout=1).is_success:
                        up.add(i)
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        assert up == {0, 1}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(15)
