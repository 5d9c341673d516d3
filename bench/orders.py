"""Removal order received → content gone from a member's live socket, timed end to end.

A real server process (SQLite, shipped durability). An authority account posts orders over
HTTP for messages in a group whose other member watches on a WebSocket; the time is from
sending the order to that member receiving `message.deleted`. The law allows one hour; the
target is one second.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.population import populate
from darbuka.container import build_runtime
from darbuka.safety.accounts import AccountChange
from darbuka.settings import Settings
from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess

ORDERS = 50


async def _make_authority(data_dir: Path) -> str:
    runtime = build_runtime(Settings(data_dir=data_dir))
    runtime.writer.start()
    try:
        services = runtime.services
        token, _ = await services.auth.do_issue_token("+447999999999", name="Authority")
        await services.accounts.do_change(AccountChange(kind="authority"),
                                          phone="+447999999999")
        return token
    finally:
        await runtime.writer.stop()
        await runtime.db.dispose()


async def run(work: Path) -> dict[str, Any]:
    pop = await populate(work, users=2, chat_size=2)
    authority = await _make_authority(work)
    (chat_id,) = pop.chats
    server = ServerProcess(work, **LIFTED_WRITE_LIMITS)
    try:
        author = httpx.AsyncClient(base_url=server.url + "/api/v1",
                                   headers={"authorization": f"Bearer {pop.tokens[0]}"})
        judge = httpx.AsyncClient(base_url=server.url + "/api/v1",
                                  headers={"authorization": f"Bearer {authority}"})
        async with connect(server.ws_url) as ws:
            await ws.send(orjson.dumps({"type": "auth", "token": pop.tokens[1], "cursor": "0"}))
            while orjson.loads(await ws.recv())["type"] not in ("ready", "reset"):
                pass
            timings = [await _one(author, judge, ws, chat_id, n) for n in range(ORDERS)]
        await author.aclose()
        await judge.aclose()
    finally:
        server.stop()
    ordered = sorted(timings)
    return {"orders": ORDERS, "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


async def _one(author: httpx.AsyncClient, judge: httpx.AsyncClient, ws: Any, chat_id: int,
               n: int) -> float:
    sent = (await author.post(f"/chats/{chat_id}/messages", json={
        "client_id": str(uuid.uuid4()), "text": f"propaganda {n}"})).json()
    body = {"issuing_authority": "Bench authority", "reference": f"B-{n}",
            "issued_at": 1_790_000_000_000, "reasons": "terrorist content",
            "location": f"https://example.org/chats/{chat_id}/messages/{sent['id']}"}
    start = time.perf_counter()
    response = await judge.post("/orders", json=body)
    response.raise_for_status()
    while True:
        frame = orjson.loads(await ws.recv())
        if frame["type"] == "message.deleted" and frame["message"]["id"] == sent["id"]:
            return time.perf_counter() - start


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="darbuka-bench-orders-") as tmp:
        result = await run(Path(tmp))
    print(orjson.dumps({"removal_order_to_gone": result}, option=orjson.OPT_INDENT_2).decode())
    met = result["p99_ms"] <= 1000
    print(f"{'met ' if met else 'MISSED'}  removal order → content gone ≤ 1 s (p99)")


if __name__ == "__main__":
    asyncio.run(main())
