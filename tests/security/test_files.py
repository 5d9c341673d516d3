"""What the server keeps on disk is its own: other local users cannot list or read it."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from darbuka.secret import load_secret
from darbuka.settings import Settings
from tests.conftest import make_server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_data_folder_database_and_secret_are_private(tmp_path: Path,
                                                         database_url: str) -> None:
    data = tmp_path / "data"
    server = make_server(f"sqlite:///{data}/darbuka.db", data)
    try:
        server.sign_up("Alice")
    finally:
        server.thread.stop()
    assert _mode(data) == 0o700
    assert _mode(data / "darbuka.db") == 0o600
    for journal in ("darbuka.db-wal", "darbuka.db-shm"):
        if (data / journal).exists():
            assert _mode(data / journal) == 0o600, journal
    assert _mode(data / "secret.key") == 0o600


def test_an_existing_install_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "darbuka.db").write_bytes(b"")
    (data / "darbuka.db").chmod(0o644)
    server = make_server(f"sqlite:///{data}/darbuka.db", data)
    server.thread.stop()
    assert _mode(data) == 0o700
    assert _mode(data / "darbuka.db") == 0o600


def test_processes_starting_together_make_one_secret(tmp_path: Path) -> None:
    """Each process reads back the same key; none reads a half-written or empty file."""
    settings = Settings(data_dir=tmp_path / "fresh")
    found: list[bytes] = []
    start = threading.Barrier(16)

    def one() -> None:
        start.wait()
        found.append(load_secret(settings))

    threads = [threading.Thread(target=one) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 16
    assert len(set(found)) == 1
    assert len(found[0]) == 64
    assert _mode(tmp_path / "fresh" / "secret.key") == 0o600
    assert list((tmp_path / "fresh").iterdir()) == [tmp_path / "fresh" / "secret.key"]
