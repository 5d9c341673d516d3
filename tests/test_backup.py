"""`darbuka backup` takes a consistent copy while the server writes, and a restored backup
starts a new stream epoch: a client whose cursor is newer than the backup gets `reset`
instead of a replay that would skip what the backup lost (real server processes)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from darbuka.stream import EPOCH_SPAN, epoch_of
from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess
from tests.helpers import Api, Socket


def _darbuka(*args: str, env: dict[str, str], expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "darbuka", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert done.returncode == expect, done.stderr
    return done


def _token(data_dir: Path, env: dict[str, str], phone: str) -> str:
    out = _darbuka("admin", "issue-token", "--phone", phone, "--data-dir", str(data_dir),
                   env=env)
    return out.stdout.strip().splitlines()[-1]


def _signed_in(server: ServerProcess, token: str) -> Api:
    api = Api(server.url, token)
    api.user = api.ok("GET", "/me")
    return api


def test_a_restored_backup_resets_clients_that_saw_what_it_lost(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = {**os.environ, "DARBUKA_LOG_LEVEL": "warning"}
    tokens = [_token(data, env, phone) for phone in ("+447700900101", "+447700900102")]
    server = ServerProcess(data, **LIFTED_WRITE_LIMITS)
    alice, bob = (_signed_in(server, t) for t in tokens)
    chat = alice.direct(bob)
    alice.send(chat["id"], "kept")

    # The backup is taken while sends go on: the copy is whole (one snapshot).
    sending = threading.Thread(target=lambda: [alice.send(chat["id"], f"during {i}")
                                               for i in range(40)])
    sending.start()
    backup = tmp_path / "darbuka-backup.db"
    _darbuka("backup", str(backup), "--data-dir", str(data), env=env)
    sending.join(60)
    copy = sqlite3.connect(backup)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT pos FROM streams").fetchone()[0] == EPOCH_SPAN
    copy.close()

    for i in range(5):
        alice.send(chat["id"], f"lost {i}")  # after the backup: the restore loses these
    _, bob_cursor = bob.sync_all("0")  # bob saw everything, the lost ones too
    server.stop()

    _darbuka("restore", str(backup), "--data-dir", str(data), env=env)
    assert (data / "darbuka.db.before-restore").exists()
    server = ServerProcess(data, port=server.port, **LIFTED_WRITE_LIMITS)
    try:
        alice = _signed_in(server, tokens[0])
        # The restored server writes on, past the position of bob's cursor.
        for i in range(60):
            alice.send(chat["id"], f"new {i}")
        texts = [m["text"] for m in alice.history(chat["id"], limit=200)]
        assert "lost 0" not in texts
        assert "new 59" in texts

        bob = Api(server.url, tokens[1])
        page = bob.sync(bob_cursor)
        assert page.get("reset") is True, page
        assert epoch_of(int(page["cursor"])) > epoch_of(int(bob_cursor))
        socket = Socket(server.ws_url, tokens[1], cursor=bob_cursor)
        try:
            assert socket.ready()["type"] == "reset"
        finally:
            socket.close()
        # The fresh cursor replays as usual.
        assert bob.sync(page["cursor"]).get("reset") is None
    finally:
        server.stop()


def test_restore_on_postgresql_starts_a_new_epoch(pg_url: str, tmp_path: Path) -> None:
    """After pg_restore the operator runs `darbuka restore` alone: a new epoch."""
    from tests.conftest import _pg_admin

    asyncio.run(_pg_admin(pg_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    env = {**os.environ, "DARBUKA_LOG_LEVEL": "warning", "DARBUKA_DATABASE_URL": pg_url}
    empty = _darbuka("restore", "--data-dir", str(tmp_path), env=env, expect=2)
    assert "cannot start a new epoch" in empty.stderr  # pg_restore did not run, say
    _darbuka("migrate", "--data-dir", str(tmp_path), env=env)
    done = _darbuka("restore", "--data-dir", str(tmp_path), env=env)
    assert "epoch 1" in done.stdout
    refused = _darbuka("restore", str(tmp_path / "x.db"), "--data-dir", str(tmp_path),
                       env=env, expect=2)
    assert "pg_restore" in refused.stderr
    refused = _darbuka("backup", str(tmp_path / "x.db"), "--data-dir", str(tmp_path),
                       env=env, expect=2)
    assert "pg_dump" in refused.stderr


def test_restoring_what_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "DARBUKA_LOG_LEVEL": "warning"}
    _darbuka("migrate", "--data-dir", str(tmp_path), env=env)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    refused = _darbuka("restore", str(junk), "--data-dir", str(tmp_path), env=env, expect=2)
    assert "not a SQLite database" in refused.stderr
    assert (tmp_path / "darbuka.db").exists()
    assert not (tmp_path / "darbuka.db.before-restore").exists()
