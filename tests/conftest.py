"""Fixtures: a real server per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from darbuka.app import build_app
from darbuka.settings import Settings
from darbuka.testing import LIFTED_WRITE_LIMITS, FakeClock, RecordingCodeSender, ServerThread
from tests.helpers import Api
from tests.s3_helpers import Weed, new_bucket

PG_URL = os.environ.get("DARBUKA_TEST_DATABASE_URL", "")
_phones = itertools.count(1000)


def _pg(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _sync(coro: Any) -> Any:
    """Run a coroutine to its end from a test's thread — in a thread of its own, since the
    browser tests' Playwright already runs an event loop in this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def own_pg_database(prefix: str) -> Iterator[str]:
    """An empty PostgreSQL database named for this test process (parallel runs never
    collide), dropped afterwards; skips without `DARBUKA_TEST_DATABASE_URL`."""
    if not PG_URL:
        pytest.skip("DARBUKA_TEST_DATABASE_URL is not set (make test sets it)")
    name = f"{prefix}_{os.getpid()}"
    _sync(_pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}"'))
    _sync(_pg_admin(PG_URL, f'CREATE DATABASE "{name}"'))
    yield _pg(PG_URL).rsplit("/", 1)[0] + "/" + name
    _sync(_pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A database of this test process's own, so parallel test runs never collide."""
    yield from own_pg_database("darbuka_test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/darbuka.db"
    url: str = request.getfixturevalue("pg_url")
    # Empty it: each test starts from a new schema.
    _sync(_pg_admin(url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    return url


@dataclass
class LiveServer:
    thread: ServerThread
    clock: FakeClock
    codes: RecordingCodeSender
    settings: Settings
    app: Any

    @property
    def url(self) -> str:
        return self.thread.url

    @property
    def ws_url(self) -> str:
        return self.thread.ws_url

    def sign_up(self, name: str = "", phone: str | None = None) -> Api:
        phone = phone or f"+4477009{next(_phones):05d}"
        anon = Api(self.url)
        anon.ok("POST", "/auth/request-code", json={"phone": phone})
        result = anon.ok("POST", "/auth/sign-in", json={
            "phone": phone, "code": self.codes.codes[phone], "device_name": "test"})
        anon.close()
        api = Api(self.url, result["token"])
        api.user = result["user"]
        if name:
            api.user = api.ok("PATCH", "/me", json={"display_name": name})
        return api

    def run_async(self, coro: Any) -> Any:
        """Run a coroutine on the server's loop (for reading its state)."""
        assert self.thread.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.thread.loop).result(30)


def make_server(database_url: str, data_dir: Path, **overrides: Any) -> LiveServer:
    clock = FakeClock()
    codes = RecordingCodeSender()
    # Every test user signs in from 127.0.0.1: lift the per-IP limits unless a test sets them.
    # A few test users write faster than people do: lift the write limits too.
    limits = {"sign_ins_per_ip_hour": 10_000, "code_requests_per_ip_hour": 10_000,
              **LIFTED_WRITE_LIMITS}
    settings = Settings(data_dir=data_dir, database_url=database_url, **(limits | overrides))
    app = build_app(settings, clock=clock, code_sender=codes)
    thread = ServerThread(app).start()
    return LiveServer(thread, clock, codes, settings, app)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = make_server(database_url, tmp_path)
    yield srv
    srv.thread.stop()


@pytest.fixture
def hook_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose bots may have webhooks on loopback, retried quickly."""
    srv = make_server(database_url, tmp_path, bot_webhook_allow_private=True,
                      bot_webhook_retry_base_s=0.05, bot_webhook_retry_max_s=0.2)
    yield srv
    srv.thread.stop()


@pytest.fixture
def alice(server: LiveServer) -> Api:
    return server.sign_up("Alice")


@pytest.fixture
def bob(server: LiveServer) -> Api:
    return server.sign_up("Bob")


@pytest.fixture
def carol(server: LiveServer) -> Api:
    return server.sign_up("Carol")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Weed]:
    """One real S3 store (SeaweedFS) for the whole run; each test takes a bucket of its own."""
    weed = Weed(tmp_path_factory.mktemp("seaweed")).start()
    yield weed
    weed.kill()


@pytest.fixture(params=["files", "s3"])
def server_on_each_store(request: pytest.FixtureRequest, database_url: str,
                         tmp_path: Path) -> Iterator[LiveServer]:
    """A server keeping blobs and uploads in its folder, then in an S3 bucket of its own (a
    test file runs on both by naming this its `server`)."""
    extra = {}
    if request.param == "s3":
        extra = request.getfixturevalue("seaweed").settings(new_bucket())
    srv = make_server(database_url, tmp_path, **extra)
    yield srv
    srv.thread.stop()


# The browser tests' fixtures (Chromium, a server that serves the web client).
from tests.browser import browser, web_server, web_server_each_db  # noqa: E402, F401
