"""Hash-list files: parse (strictly) and write the formats banks import and export.

Accepted on import (see docs/banks.md):
- CSV with a header row: `signal_type` and `hash` (or `signal`, as HMA/ThreatExchange
  exports name it); every other column is a label. Darbuka's own export is this format.
- JSON: Darbuka's export `{"format": "darbuka-bank/1", "hashes": [{"signal_type", "hash",
  "labels"}]}`, a bare list of such objects, or the TCAP hash-list shape
  `{"results": [{"hash_digest", "algorithm", "ideology", "file_type", "deleted", "id"}]}`.

Every row is checked before anything is imported: one bad row fails the whole file with a
report naming each bad line (CSV) or entry (JSON).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from darbuka.safety.links import normalise_domain, normalise_url

__all__ = [
    "HASH_BYTES",
    "LINK_SIGNALS",
    "SIGNALS",
    "HashRow",
    "ImportProblems",
    "ParsedFile",
    "dump_csv",
    "dump_json",
    "parse_bank_file",
    "parse_hash",
    "parse_signal",
    "signal_text",
]

SIGNALS = ("md5", "sha256", "pdq", "url", "domain")
HASH_BYTES = {"md5": 16, "sha256": 32, "pdq": 32}
# Signals whose "hash" is the normalised text itself (`safety/links.py`).
LINK_SIGNALS = {"url": normalise_url, "domain": normalise_domain}
FORMAT = "darbuka-bank/1"
MAX_REPORTED = 50  # a file with a systematic problem gets a readable report, not 1M lines

# Names other tools use for our three signal types (compared lower-cased). pytx's
# `video_md5` is the MD5 of the file's bytes, the same thing as ours.
_ALIASES = {
    "md5": "md5", "video_md5": "md5",
    "sha256": "sha256", "sha-256": "sha256",
    "pdq": "pdq",
    "url": "url", "uri": "url",
    "domain": "domain",
}
_HASH_COLUMNS = ("hash", "signal")


@dataclass(frozen=True, slots=True)
class HashRow:
    signal: str
    hash: bytes
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def hex(self) -> str:
        """The hash as files carry it: hex, or a link's normalised text."""
        return signal_text(self.signal, self.hash)


@dataclass(slots=True)
class ParsedFile:
    rows: list[HashRow]
    # TCAP entries marked deleted are not hashes to act on; they are counted, not imported.
    skipped_deleted: int = 0


class ImportProblems(ValueError):
    """The file is refused as a whole; `problems` holds (where, what) for each bad row."""

    def __init__(self, problems: list[tuple[str, str]], total: int | None = None) -> None:
        self.problems = problems[:MAX_REPORTED]
        self.total = len(problems) if total is None else total
        more = f" (and {self.total - len(self.problems)} more)" if self.total > MAX_REPORTED else ""
        lines = "; ".join(f"{where}: {what}" for where, what in self.problems[:5])
        super().__init__(f"{self.total} bad row(s){more}: {lines}")


def signal_text(signal: str, value: bytes) -> str:
    return value.decode() if signal in LINK_SIGNALS else value.hex()


def parse_signal(raw: object) -> str:
    name = str(raw).strip().lower() if isinstance(raw, str) else ""
    if name not in _ALIASES:
        raise ValueError(f"unknown signal type {raw!r} (use md5, sha256, pdq, url or domain)")
    return _ALIASES[name]


def parse_hash(signal: str, raw: object) -> bytes:
    """Hex of exactly the signal's length (a link: its normalised text), or ValueError
    saying what is wrong."""
    if signal in LINK_SIGNALS:
        if not isinstance(raw, str):
            raise ValueError(f"a {signal} must be text")
        return LINK_SIGNALS[signal](raw).encode()
    if not isinstance(raw, str):
        raise ValueError(f"{signal} hash must be a hex string")
    text = raw.strip().lower()
    want = HASH_BYTES[signal] * 2
    if len(text) != want:
        raise ValueError(f"{signal} hash must be {want} hex digits, got {len(text)}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{signal} hash is not hexadecimal: {raw!r}") from None


def parse_bank_file(data: bytes | str, fmt: str | None = None) -> ParsedFile:
    """Rows of a CSV or JSON hash list (`fmt` "csv" | "json", else guessed from the first
    character). Raises ImportProblems listing every bad row; never returns a partial list."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    if fmt is None:
        fmt = "json" if text.lstrip()[:1] in ("{", "[") else "csv"
    if fmt == "csv":
        return _parse_csv(text)
    if fmt == "json":
        return _parse_json(text)
    raise ImportProblems([("file", f"unknown format {fmt!r} (csv or json)")])


def _parse_csv(text: str) -> ParsedFile:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    names = [h.strip() for h in header] if header else []
    lowered = [n.lower() for n in names]
    hash_col = next((lowered.index(c) for c in _HASH_COLUMNS if c in lowered), None)
    if "signal_type" not in lowered or hash_col is None:
        raise ImportProblems([("line 1", "the header must name the columns signal_type and "
                               "hash (or signal)")])
    type_col = lowered.index("signal_type")
    label_cols = [(i, n) for i, n in enumerate(names) if i not in (type_col, hash_col) and n]
    rows: list[HashRow] = []
    problems: list[tuple[str, str]] = []
    for cells in reader:
        where = f"line {reader.line_num}"
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(names):
            problems.append((where, f"{len(cells)} cells but the header has {len(names)}"))
            continue
        cells = cells + [""] * (len(names) - len(cells))
        labels = {n: cells[i].strip() for i, n in label_cols if cells[i].strip()}
        _collect(rows, problems, where, cells[type_col], cells[hash_col], labels)
    return _done(rows, problems)


def _parse_json(text: str) -> ParsedFile:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ImportProblems([("file", f"not valid JSON: {exc}")]) from None
    if isinstance(doc, dict) and "results" in doc and "hashes" not in doc:
        return _parse_tcap(doc["results"])
    entries = doc.get("hashes") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise ImportProblems([("file", 'expected {"hashes": [...]}, a list of hashes, or a '
                               'TCAP {"results": [...]} hash list')])
    rows: list[HashRow] = []
    problems: list[tuple[str, str]] = []
    for number, entry in enumerate(entries, 1):
        where = f"entry {number}"
        if not isinstance(entry, dict):
            problems.append((where, "each entry must be an object"))
            continue
        raw_labels = entry.get("labels") or {}
        if not isinstance(raw_labels, dict):
            problems.append((where, "labels must be an object of strings"))
            continue
        labels = {str(k): str(v) for k, v in raw_labels.items() if v not in (None, "")}
        value = entry.get("hash", entry.get("signal"))
        _collect(rows, problems, where, entry.get("signal_type"), value, labels)
    return _done(rows, problems)


def _parse_tcap(results: object) -> ParsedFile:
    if not isinstance(results, list):
        raise ImportProblems([("file", "TCAP results must be a list")])
    rows: list[HashRow] = []
    problems: list[tuple[str, str]] = []
    deleted = 0
    for number, entry in enumerate(results, 1):
        where = f"entry {number}"
        if not isinstance(entry, dict):
            problems.append((where, "each entry must be an object"))
            continue
        if entry.get("deleted") is True:
            deleted += 1
            continue
        labels = {"source": "tcap"}
        for key, label in (("ideology", "ideology"), ("file_type", "file_type"),
                           ("id", "tcap_id")):
            if entry.get(key) not in (None, ""):
                labels[label] = str(entry[key])
        _collect(rows, problems, where, entry.get("algorithm"), entry.get("hash_digest"), labels)
    parsed = _done(rows, problems)
    parsed.skipped_deleted = deleted
    return parsed


def _collect(rows: list[HashRow], problems: list[tuple[str, str]], where: str,
             raw_signal: object, raw_hash: object, labels: dict[str, str]) -> None:
    try:
        signal = parse_signal(raw_signal)
        rows.append(HashRow(signal, parse_hash(signal, raw_hash), labels))
    except ValueError as exc:
        problems.append((where, str(exc)))


def _done(rows: list[HashRow], problems: list[tuple[str, str]]) -> ParsedFile:
    if problems:
        raise ImportProblems(problems)
    if not rows:
        raise ImportProblems([("file", "no hashes in the file")])
    return ParsedFile(rows)


def dump_csv(rows: Iterable[HashRow]) -> str:
    """`signal_type,hash,<label columns…>`: the label columns are the union of all labels."""
    rows = list(rows)
    keys = sorted({k for row in rows for k in row.labels})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["signal_type", "hash", *keys])
    for row in rows:
        writer.writerow([row.signal, row.hex, *(row.labels.get(k, "") for k in keys)])
    return out.getvalue()


def dump_json(bank: Mapping[str, Any], rows: Iterable[HashRow]) -> bytes:
    return orjson.dumps({"format": FORMAT, "bank": dict(bank),
                         "hashes": list(_json_rows(rows))})


def _json_rows(rows: Iterable[HashRow]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield {"signal_type": row.signal, "hash": row.hex, "labels": dict(row.labels)}
