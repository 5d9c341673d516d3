"""The server secret: it keys the HMACs of sign-in codes, of phone numbers in address books and
of bot upload tickets. Processes that share a database must share it."""

from __future__ import annotations

import secrets
from pathlib import Path

from darbuka.settings import Settings

__all__ = ["load_secret"]


def load_secret(settings: Settings) -> bytes:
    """From `DARBUKA_SECRET_KEY`, else a file under the data folder, made once."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()
