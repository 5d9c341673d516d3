"""Every process checks at start that its secret is the one the database was first started
with: with another, phone and code hashes would silently stop matching. Real OS processes on
one PostgreSQL database, made fresh for the test."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from darbuka.secret import fingerprint
from darbuka.testing import ServerProcess, free_port
from tests.conftest import _pg_admin

FIRST, OTHER = "the-first-secret", "another-secret"


def _darbuka(*args: str, url: str, secret: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DARBUKA_DATABASE_URL": url, "DARBUKA_SECRET_KEY": secret,
           "DARBUKA_LOG_LEVEL": "warning"}
    return subprocess.run([sys.executable, "-m", "darbuka", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


async def _stored(url: str) -> list[bytes]:
    conn = await asyncpg.connect(url)
    try:
        return [r[0] for r in await conn.fetch("SELECT secret_fingerprint FROM installation")]
    finally:
        await conn.close()


def _assert_refused(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith("error: this server's secret"), done.stderr
    assert "not the one the database was first started with" in done.stderr


def test_a_second_process_with_another_secret_refuses_to_start(pg_url: str,
                                                               tmp_path: Path) -> None:
    asyncio.run(_pg_admin(pg_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    (tmp_path / "a").mkdir()
    first = ServerProcess(tmp_path / "a", database_url=pg_url, secret_key=FIRST)
    try:
        # The fingerprint, never the secret itself.
        assert asyncio.run(_stored(pg_url)) == [fingerprint(FIRST.encode())]

        other = _darbuka("serve", "--port", str(free_port()), url=pg_url, secret=OTHER,
                         data_dir=tmp_path / "b")
        _assert_refused(other)
        # An operator's command with the wrong secret is refused the same way.
        _assert_refused(_darbuka("admin", "issue-token", "--phone", "+447700900401",
                                 url=pg_url, secret=OTHER, data_dir=tmp_path / "admin"))

        (tmp_path / "c").mkdir()
        same = ServerProcess(tmp_path / "c", database_url=pg_url, secret_key=FIRST)
        same.stop()
        assert asyncio.run(_stored(pg_url)) == [fingerprint(FIRST.encode())]
    finally:
        first.stop()
