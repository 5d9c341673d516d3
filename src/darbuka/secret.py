"""The server secret: it keys the HMACs of sign-in codes, of phone numbers in address books and
of bot upload tickets. Processes that share a database must share it.

A database remembers a fingerprint of the secret it was first started with, and a process
with another one refuses to start: with a second secret, phone hashes and code hashes would
stop matching without any error, and address books would quietly find nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from darbuka.files import create_once, private_dir
from darbuka.settings import Settings

__all__ = ["SecretMismatch", "check_fingerprint", "fingerprint", "load_secret"]

# A label of its own: the fingerprint is no HMAC the secret makes for anything else.
_LABEL = b"darbuka secret fingerprint v1"


class SecretMismatch(RuntimeError):
    """This process's secret is not the one the database was first started with."""


def load_secret(settings: Settings) -> bytes:
    """From `DARBUKA_SECRET_KEY`, else a file under the data folder, made once."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = private_dir(Path(settings.data_dir)) / "secret.key"
    # Made private before a byte is in it, and once: processes starting together agree.
    return create_once(path, secrets.token_hex(32).encode()).strip()


def fingerprint(secret: bytes) -> bytes:
    """What the database keeps to recognise the secret; it does not give the secret away."""
    return hmac.new(secret, _LABEL, hashlib.sha256).digest()


def check_fingerprint(stored: bytes, secret: bytes) -> None:
    if not hmac.compare_digest(stored, fingerprint(secret)):
        raise SecretMismatch(
            "this server's secret (DARBUKA_SECRET_KEY, else secret.key in the data folder) "
            "is not the one the database was first started with; start every process with "
            "that secret, or phone and sign-in code hashes stop matching")
