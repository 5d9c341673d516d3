"""The server secret: it keys the HMACs of sign-in codes, of phone numbers in address books and
of bot upload tickets. Processes that share a database must share it."""

from __future__ import annotations

import secrets
from pathlib import Path

from darbuka.files import create_once, private_dir
from darbuka.settings import Settings

__all__ = ["load_secret"]


def load_secret(settings: Settings) -> bytes:
    """From `DARBUKA_SECRET_KEY`, else a file under the data folder, made once."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = private_dir(Path(settings.data_dir)) / "secret.key"
    # Made private before a byte is in it, and once: processes starting together agree.
    return create_once(path, secrets.token_hex(32).encode()).strip()
