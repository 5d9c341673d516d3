"""The push benchmark: messages to people with no socket, at a steady rate, each timed from
its send until the push that carries it reaches a push service; and a burst in one chat.

Targets: at 200 messages/s, p99 ≤ 1 s from send to the push service; a burst of 50 in one
chat makes ≤ 2 pushes. The push service is the benchmark's own, on loopback, and decrypts
every push (as a browser would) to learn which message it carries. The population is made
straight in the database; the server runs as its own process with the shipped defaults
(SQLite, FULL sync), its job runner delivering. Prints one JSON object.

    .venv/bin/python bench/push.py [--rate 200] [--seconds 10] [--chats 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import http_ece
import httpx
import orjson
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from darbuka.container import build_runtime, open_storage
from darbuka.services.auth import TOKEN_PREFIX, hash_token
from darbuka.settings import Settings
from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess, free_port

BURST = 50
# One key pair for every recipient's browser: what is measured is the server's work.
BROWSER_KEY = ec.generate_private_key(ec.SECP256R1())
BROWSER_AUTH = os.urandom(16)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def populate(data_dir: Path, chats: int, push_url: str) -> tuple[str, list[int]]:
    """One sender and `chats` groups of two, each recipient subscribed; the sender's token
    and the chat ids (the last is the burst's)."""
    runtime = build_runtime(Settings(data_dir=data_dir, sqlite_synchronous="NORMAL"))
    await open_storage(runtime)
    stores, now = runtime.stores, int(time.time() * 1000)
    point = BROWSER_KEY.public_key().public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    chat_ids = []
    async with runtime.db.write() as conn:
        sender = await stores.users.create(conn, phone="+447900000000", now=now,
                                           display_name="Sender")
        await stores.devices.create(conn, user_id=sender, name="bench",
                                    token_hash=hash_token(token), now=now)
        for i in range(chats + 1):
            user = await stores.users.create(conn, phone=f"+4479{i + 1:08d}", now=now,
                                             display_name=f"Away {i}")
            device = await stores.devices.create(conn, user_id=user, name="browser",
                                                 token_hash=hash_token(uuid.uuid4().hex),
                                                 now=now)
            chat = await stores.chats.create(conn, kind="group", title=f"Chat {i}",
                                             owner_id=sender, now=now)
            (pos,) = await stores.events.reserve(conn, 1)
            await stores.chats.add_members(conn, chat, {sender: "owner", user: "member"},
                                           now=now, pos=pos, read_seq=0)
            await stores.push.subscribe(conn, user_id=user, device_id=device,
                                        endpoint=f"{push_url}/{chat}", p256dh=_b64(point),
                                        auth=_b64(BROWSER_AUTH), previews=True, now=now)
            chat_ids.append(chat)
    await runtime.db.dispose()
    return token, chat_ids


class Receiver:
    """The push service: when each push arrived, and the chat and seq it carries."""

    def __init__(self) -> None:
        self.pushes: list[tuple[float, int, int]] = []
        self.sizes: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        at = time.perf_counter()
        plain = orjson.loads(http_ece.decrypt(body, private_key=BROWSER_KEY,
                                              auth_secret=BROWSER_AUTH, version="aes128gcm"))
        if plain["type"] == "message":
            self.pushes.append((at, plain["chat_id"], plain["seq"]))
        self.sizes.append(len(body))
        return web.Response(status=201)


def _commits(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("darbuka_writer_commits_total "):
            return float(line.split()[1])
    raise RuntimeError("the server reports no darbuka_writer_commits_total")


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else -1.0


async def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{chat}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    token, chat_ids = await populate(work, args.chats, f"http://127.0.0.1:{port}")
    metrics = secrets.token_urlsafe(16)
    server = ServerProcess(work, push_allow_private="true", metrics_token=metrics,
                           **LIFTED_WRITE_LIMITS)
    sent: dict[tuple[int, int], float] = {}
    errors: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30,
                                     headers={"authorization": f"Bearer {token}"},
                                     limits=httpx.Limits(max_connections=64)) as http:

            async def send(chat: int) -> None:
                at = time.perf_counter()
                try:
                    r = await http.post(f"/chats/{chat}/messages",
                                        json={"client_id": str(uuid.uuid4()), "text": "hello"})
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    return
                if r.status_code != 201:
                    errors.append(f"{r.status_code} {r.text[:100]}")
                    return
                sent[(chat, r.json()["seq"])] = at

            steady, burst_chat = chat_ids[:-1], chat_ids[-1]
            total = int(args.rate * args.seconds)
            start, tasks = time.perf_counter(), []
            for n in range(total):
                await asyncio.sleep(max(0.0, start + n / args.rate - time.perf_counter()))
                tasks.append(asyncio.create_task(send(steady[n % len(steady)])))
            await asyncio.gather(*tasks)
            offered_s = time.perf_counter() - start
            await asyncio.gather(*(send(burst_chat) for _ in range(BURST)))
            await asyncio.sleep(args.settle)
            commits = _commits((await http.get(server.url + "/metrics", headers={
                "authorization": f"Bearer {metrics}"})).text)
    finally:
        server.stop()
        await runner.cleanup()
    if errors:
        print((work / "server.log").read_text()[-3000:], file=sys.stderr)
    latencies = []
    for (chat, seq), at in sent.items():
        arrived = [t for t, c, s in receiver.pushes if c == chat and s >= seq and t >= at]
        latencies.append(min(arrived) - at if arrived else float("inf"))
    steady_latencies = [v for (c, _), v in zip(sent, latencies, strict=True) if c != burst_chat]
    return {
        "rate_offered": args.rate, "rate_sent": round(total / offered_s, 1),
        "messages": len(steady_latencies),
        "reached_push_service": sum(v != float("inf") for v in steady_latencies),
        "latency_ms": {"p50": round(_pct(steady_latencies, 50) * 1000, 1),
                       "p99": round(_pct(steady_latencies, 99) * 1000, 1)},
        "burst": BURST, "burst_pushes": sum(c == burst_chat for _, c, _ in receiver.pushes),
        "largest_push_bytes": max(receiver.sizes, default=0),
        # Load-independent: what the server's fsyncs cost per message sent and pushed.
        "commits_per_message": round(commits / (total + BURST), 2),
        "errors": errors[:5], "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=200.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--chats", type=int, default=1000,
                        help="recipients (each in its own chat), messaged in turn")
    parser.add_argument("--settle", type=float, default=6.0,
                        help="seconds to wait for the last pushes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="darbuka-push-") as tmp:
        result = asyncio.run(measure(args, Path(tmp)))
    print(json.dumps(result, indent=2))
    ok = (result["reached_push_service"] == result["messages"]
          and result["latency_ms"]["p99"] <= 1000 and result["burst_pushes"] <= 2)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
