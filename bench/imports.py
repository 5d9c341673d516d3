"""Importing a Telegram export at size: N text messages with formatting from 20 authors and
a few photos, into a new group on SQLite, through the same service as
`darbuka admin import-telegram`; then the same export again (it must add nothing).

    .venv/bin/python bench/imports.py [--messages 20000] [--photos 20]

Reports messages per second for the first run and the time of the second.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import orjson
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from darbuka.cli_common import runtime_for
from darbuka.services.telegram import read_export
from darbuka.settings import Settings


def write_export(folder: Path, messages: int, photos: int) -> None:
    (folder / "photos").mkdir(parents=True)
    rows = []
    for n in range(1, messages + 1):
        row = {"id": n, "type": "message", "date_unixtime": str(1_600_000_000 + n),
               "from": f"Author {n % 20}", "from_id": f"user{n % 20}",
               "text": [f"message {n} with ", {"type": "bold", "text": "bold"}, " and ",
                        {"type": "text_link", "text": "a link",
                         "href": "https://example.org/"}]}
        if n % max(1, messages // max(1, photos)) == 0 and photos:
            photos -= 1
            out = io.BytesIO()
            Image.new("RGB", (320, 240), (n % 255, 80, 160)).save(out, "PNG")
            (folder / "photos" / f"p{n}.png").write_bytes(out.getvalue())
            row["photo"] = f"photos/p{n}.png"
        rows.append(row)
    (folder / "result.json").write_bytes(orjson.dumps(
        {"name": "Bench", "type": "private_group", "id": 1, "messages": rows}))


async def main(messages: int, photos: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_export(root / "export", messages, photos)
        settings = Settings(data_dir=root / "data")
        async with runtime_for(settings) as rt:
            await rt.services.auth.do_issue_token("+447700900001", name="Owner")
            export = read_export(root / "export")
            await rt.services.banks.refresh()
            started = time.perf_counter()
            first = await rt.services.imports.do_import_telegram(
                export, kind="group", owner_phone="+447700900001")
            took = time.perf_counter() - started
            started = time.perf_counter()
            again = await rt.services.imports.do_import_telegram(
                export, kind="group", owner_phone="+447700900001")
            rerun = time.perf_counter() - started
            rt.services.media.stop()
    assert first.imported == messages, first
    assert again.imported == 0, again
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"import: {messages} messages ({photos} photos) in {took:.1f} s = "
          f"{messages / took:.0f} messages/s")
    print(f"second run: nothing added, {rerun:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--photos", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.photos))
