"""Hash-list files: what is accepted, and that a bad row refuses the whole file."""

from __future__ import annotations

import orjson
import pytest

from darbuka.safety.hashformats import (
    HashRow,
    ImportProblems,
    dump_csv,
    dump_json,
    parse_bank_file,
)

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_darbuka_csv_with_label_columns() -> None:
    text = f"signal_type,hash,category,entity\npdq,{PDQ},terrorism,X\nMD5,{MD5.upper()},,\n"
    rows = parse_bank_file(text).rows
    assert rows == [HashRow("pdq", bytes.fromhex(PDQ), {"category": "terrorism", "entity": "X"}),
                    HashRow("md5", bytes.fromhex(MD5), {})]


def test_hma_signal_type_signal_csv() -> None:
    text = f"signal_type,signal\npdq,{PDQ}\nvideo_md5,{MD5}\n"
    rows = parse_bank_file(text, "csv").rows
    assert [(r.signal, r.hex) for r in rows] == [("pdq", PDQ), ("md5", MD5)]


def test_tcap_hash_list_json_skips_deleted_entries() -> None:
    doc = {"count": 3, "next": None, "checkpoint": "1,2", "results": [
        {"hash_digest": PDQ, "algorithm": "PDQ", "ideology": "islamist", "file_type": "jpg",
         "deleted": False, "id": 7},
        {"hash_digest": SHA, "algorithm": "SHA256", "ideology": "far-right",
         "file_type": "mp4", "deleted": False, "id": 8},
        {"hash_digest": MD5, "algorithm": "MD5", "deleted": True, "id": 9},
    ]}
    parsed = parse_bank_file(orjson.dumps(doc))
    assert [(r.signal, r.hex) for r in parsed.rows] == [("pdq", PDQ), ("sha256", SHA)]
    assert parsed.rows[0].labels == {"source": "tcap", "ideology": "islamist",
                                     "file_type": "jpg", "tcap_id": "7"}
    assert parsed.skipped_deleted == 1


def test_export_round_trips_in_both_formats() -> None:
    rows = [HashRow("pdq", bytes.fromhex(PDQ), {"category": "t"}),
            HashRow("sha256", bytes.fromhex(SHA), {"entity": "e"}),
            HashRow("md5", bytes.fromhex(MD5), {})]
    assert parse_bank_file(dump_csv(rows)).rows == rows
    assert parse_bank_file(dump_json({"name": "b"}, rows)).rows == rows


@pytest.mark.parametrize(("text", "expected"), [
    (f"signal_type,hash\npdq,{PDQ}\npdq,{PDQ[:-1]}\nsha1,{MD5}\nmd5,{MD5[:-2]}zz\n",
     [("line 3", "64 hex digits, got 63"), ("line 4", "unknown signal type 'sha1'"),
      ("line 5", "not hexadecimal")]),
    (f"type,hash\npdq,{PDQ}\n", [("line 1", "signal_type and hash")]),
    (f"signal_type,hash\npdq,{PDQ},extra\n", [("line 2", "3 cells but the header has 2")]),
    ("signal_type,hash\n", [("file", "no hashes")]),
    (f'{{"hashes": [{{"signal_type": "pdq", "hash": "{PDQ}"}}, 5, '
     f'{{"signal_type": "md5", "hash": "{PDQ}"}}]}}',
     [("entry 2", "must be an object"), ("entry 3", "32 hex digits, got 64")]),
    ('{"hashes": [', [("file", "not valid JSON")]),
    (f'{{"results": [{{"hash_digest": "{MD5}", "algorithm": "TMK"}}]}}',
     [("entry 1", "unknown signal type 'TMK'")]),
])
def test_bad_rows_refuse_the_whole_file_with_a_numbered_report(
        text: str, expected: list[tuple[str, str]]) -> None:
    with pytest.raises(ImportProblems) as caught:
        parse_bank_file(text)
    got = caught.value.problems
    assert [w for w, _ in got] == [w for w, _ in expected]
    for (_, message), (_, fragment) in zip(got, expected, strict=True):
        assert fragment in message


def test_a_long_report_is_cut_but_counts_everything() -> None:
    text = "signal_type,hash\n" + "pdq,00\n" * 500
    with pytest.raises(ImportProblems) as caught:
        parse_bank_file(text)
    assert caught.value.total == 500
    assert len(caught.value.problems) == 50
    assert caught.value.problems[0][0] == "line 2"
