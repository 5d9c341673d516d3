"""`darbuka admin safety …` on a SQLite data directory, in-process."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from darbuka.cli import app

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["admin", "safety", *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_list_export_and_a_refused_file(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    good = tmp_path / "list.json"
    good.write_bytes(orjson.dumps({"results": [
        {"hash_digest": PDQ, "algorithm": "PDQ", "ideology": "islamist", "deleted": False},
        {"hash_digest": MD5, "algorithm": "MD5", "deleted": True}]}))
    code, out, err = run("import-bank", str(good), "--bank", "tcap", "--data-dir", data)
    assert code == 2
    assert "no bank named 'tcap'" in err

    code, out, _ = run("import-bank", str(good), "--bank", "tcap", "--create",
                       "--data-dir", data)
    assert code == 0, out
    assert "1 added, 0 already present, 1 rows read, 1 deleted entries skipped" in out

    bad = tmp_path / "bad.csv"
    bad.write_text(f"signal_type,signal\nmd5,{MD5}\npdq,{PDQ[:10]}\n")
    code, out, err = run("import-bank", str(bad), "--bank", "tcap", "--data-dir", data)
    assert code == 1
    assert "nothing imported" in err
    assert "line 3: pdq hash must be 64 hex digits, got 10" in err

    code, out, _ = run("list-banks", "--data-dir", data)
    assert code == 0
    assert out.startswith("tcap\treview\tenabled\tpdq<=31 q>=50\tmd5=0 sha256=0 pdq=1")

    code, out, _ = run("export-bank", "--bank", "tcap", "--data-dir", data)
    assert code == 0
    assert out.splitlines() == ["signal_type,hash,ideology,source", f"pdq,{PDQ},islamist,tcap"]
