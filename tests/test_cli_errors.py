"""The `darbuka` command as a newcomer meets it: a refusal is one line and a non-zero exit,
not a traceback; an operator command prints its answer without the libraries' logging; a
token for an existing person does not rename them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import LiveServer

DARBUKA = [sys.executable, "-m", "darbuka"]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DARBUKA, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DARBUKA_DATABASE_URL": "", **(env or {})},
                          check=False)


def test_a_refused_send_is_one_line_and_a_failure(server: LiveServer) -> None:
    bad = _run("send", "--server", server.url, "--token", "dk_bad", "1", "x")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()], bad.stderr
    assert bad.stderr.startswith("error: ")
    assert "(401)" in bad.stderr
    assert "Traceback" not in bad.stderr

    alice = server.sign_up("Alice")
    unknown = _run("send", "--server", server.url, "--token", alice.token, "999999", "x")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: no such chat (404)", unknown.stderr


def test_no_server_is_one_line_too() -> None:
    out = _run("send", "--server", "http://127.0.0.1:9", "--token", "dk_x", "1", "x")
    assert out.returncode == 1
    assert out.stderr.startswith("error: cannot reach the server"), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_issue_token_prints_only_its_answer_and_renames_nobody(tmp_path: Path) -> None:
    first = _run("admin", "issue-token", "--phone", "+441632960961", "--name", "Alice",
                 "--data-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("user ")
    assert lines[1].startswith("dk_")
    assert first.stderr == "", "no INFO logging from alembic, faiss or ourselves"

    again = _run("admin", "issue-token", "--phone", "+441632960961", "--name", "Mallory",
                 "--data-dir", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert "already has an account, named 'Alice'" in again.stderr
    assert "not applied" in again.stderr

    loud = _run("admin", "issue-token", "--phone", "+441632960961", "--data-dir",
                str(tmp_path), env={"DARBUKA_LOG_LEVEL": "info"})
    assert "INFO" in loud.stderr, "asked for: the logs are there"

    import sqlite3

    with sqlite3.connect(tmp_path / "darbuka.db") as db:
        names = db.execute("SELECT display_name FROM users").fetchall()
    assert names == [("Alice",)]
