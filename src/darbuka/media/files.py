"""Whole-file hashes and the "file" kind (any type, kept as sent)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from darbuka.media.result import Hash, Processed
from darbuka.media.sniff import HEAD_BYTES, sniff

__all__ = ["file_hashes", "head_of", "process_file"]


def head_of(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(HEAD_BYTES)


def file_hashes(path: Path) -> list[Hash]:
    """MD5 and SHA-256 of the original as uploaded: exact matches for the safety work."""
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            md5.update(chunk)
            sha.update(chunk)
    return [Hash("md5", md5.hexdigest()), Hash("sha256", sha.hexdigest())]


def process_file(path: Path) -> Processed:
    return Processed(mime=sniff(head_of(path)), keep_upload=True)
