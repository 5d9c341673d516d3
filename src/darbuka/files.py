"""Files only this server's user may read: the data folder, the SQLite database and its
journal, the secret key. Other local users of the machine get nothing (no listing, no
reading), whatever the umask the server was started with."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["create_once", "private_dir", "private_file"]

DIR_MODE, FILE_MODE = 0o700, 0o600


def private_dir(path: Path) -> Path:
    """Make `path` (and missing parents) and keep it to its owner. A folder of someone
    else's (say, a shared parent the operator pointed at) is left as it is."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make `path` if it is missing, readable by its owner only; tighten it if it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(FILE_MODE)
    return path


def create_once(path: Path, data: bytes) -> bytes:
    """Write `data` to `path` unless it exists, and return what `path` holds.

    Two processes starting together agree on one content: each writes a private temporary
    file in full and links it into place; the link of the second fails (the name exists),
    and it reads the first's. Nobody ever sees a half-written file."""
    if path.exists():
        return path.read_bytes()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp makes it 0600
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_bytes()
