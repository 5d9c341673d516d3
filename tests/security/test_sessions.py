"""Sessions and sign-in: a signed-out device loses its live sessions on every process, and a
code cannot be guessed by racing the limit or by asking again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from darbuka.testing import ServerProcess
from tests.botapi_helpers import Receiver
from tests.conftest import LiveServer, _pg_admin, make_server
from tests.helpers import Api, Socket, wait_until
from tests.safety_helpers import staff

PHONE = "+441632960961"
SRC = Path(__file__).resolve().parents[2] / "src"
REDIS_URL = os.environ.get("DARBUKA_TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="DARBUKA_TEST_REDIS_URL is not set")
# The bound: a signed-out device's sessions end within a second.
CUT_S = 1.0


def _long_poll(base_url: str, token: str, cursor: str) -> tuple[httpx.Response, float]:
    """`GET /sync` waiting up to 30 s; the answer and when it came (monotonic)."""
    response = httpx.get(f"{base_url}/api/v1/sync", timeout=60,
                         params={"cursor": cursor, "timeout": 30},
                         headers={"authorization": f"Bearer {token}"})
    return response, time.monotonic()


def _closed_with(sock: Socket) -> tuple[int, float]:
    """Read until the server closes the socket: the close code, and when (monotonic)."""
    with pytest.raises(ConnectionClosed) as closed:
        _read_on(sock)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, time.monotonic()


def _read_on(sock: Socket) -> None:
    while True:
        sock.recv(timeout=10)


def _other_device(api: Api) -> int:
    return int(next(d["id"] for d in api.ok("GET", "/devices")["devices"] if not d["current"]))


def _sinks(server: LiveServer) -> int:
    async def count() -> int:
        return int(server.app.state.runtime.hub.sink_count)

    return int(server.run_async(count()))


def _cli(env: dict[str, str], *args: str) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "darbuka", "admin", *args], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip().splitlines()


# -- 1. a revoked device stays connected -------------------------------------------------


@needs_redis
def test_a_revoked_device_is_cut_on_every_process_and_its_other_devices_stay(
        pg_url: str, tmp_path: Path) -> None:
    asyncio.run(_pg_admin(pg_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    settings = {"database_url": pg_url, "redis_url": REDIS_URL,
                "redis_prefix": f"test-{uuid.uuid4().hex[:8]}", "secret_key": "shared"}
    env = {**os.environ, **{f"DARBUKA_{k.upper()}": v for k, v in settings.items()},
           "DARBUKA_LOG_LEVEL": "warning"}
    # Two devices of one account.
    lost, kept = (_cli(env, "issue-token", "--phone", PHONE, "--data-dir", str(tmp_path))[-1]
                  for _ in range(2))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = ServerProcess(tmp_path / "a", **settings)
    two = ServerProcess(tmp_path / "b", **settings)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        keeper = Api(one.url, kept)
        cursor = keeper.sync()["cursor"]
        poll = pool.submit(_long_poll, two.url, lost, cursor)
        # The lost device has a socket on each process; the kept one a socket on the other.
        sockets = [Socket(server.ws_url, lost, cursor=cursor) for server in (one, two)]
        staying = Socket(two.ws_url, kept, cursor=cursor)
        for sock in (*sockets, staying):
            assert sock.ready()["type"] == "ready"
        assert not poll.done()

        keeper.call("DELETE", f"/devices/{_other_device(keeper)}", expect=204)
        revoked_at = time.monotonic()

        for sock in sockets:
            assert sock.recv_until(lambda f: f["type"] == "device.revoked")["reason"] == (
                "revoked")
            code, when = _closed_with(sock)
            assert code == 4401
            assert when - revoked_at <= CUT_S
        response, when = poll.result(timeout=10)
        assert (response.status_code, response.json()["error"]["code"]) == (401,
                                                                            "invalid_token")
        assert when - revoked_at <= CUT_S
        # The account's other device heard of it and carries on, on both processes.
        staying.recv_until(lambda f: f["type"] == "device.revoked")
        staying.send_json({"type": "ping"})
        assert staying.recv()["type"] == "pong"
        assert Api(two.url, kept).ok("GET", "/me")["phone"] == PHONE
        Api(two.url, lost).call("GET", "/me", expect=401)
        staying.close()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        one.stop()
        two.stop()


def test_a_revoked_device_long_polls_answer_401_and_the_others_carry_on(
        server: LiveServer) -> None:
    lost = server.sign_up("Dee", phone=PHONE)
    kept = server.sign_up(phone=PHONE)
    cursor = kept.sync()["cursor"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        polls = [pool.submit(_long_poll, server.url, api.token or "", cursor)
                 for api in (lost, kept)]
        wait_until(lambda: _sinks(server) == 2, message="both polls waiting")
        device = _other_device(kept)
        kept.call("DELETE", f"/devices/{device}", expect=204)
        revoked_at = time.monotonic()
        cut, when = polls[0].result(timeout=10)
        assert (cut.status_code, cut.json()["error"]["code"]) == (401, "invalid_token")
        assert when - revoked_at <= CUT_S
        other, _ = polls[1].result(timeout=10)
    assert other.status_code == 200
    assert [(e["type"], e["device_id"]) for e in other.json()["events"]] == [
        ("device.revoked", device)]
    kept.ok("GET", "/me")
    # A device signed in later never gets the id of one signed out (SQLite would reuse the
    # highest), so the event cannot cut it.
    newest = server.sign_up(phone=PHONE)
    cursor = kept.sync()["cursor"]
    newest_id = _other_device(kept)
    kept.call("DELETE", f"/devices/{newest_id}", expect=204)
    again = server.sign_up(phone=PHONE)
    assert _other_device(kept) > newest_id
    response, _ = _long_poll(server.url, again.token or "", cursor)
    assert response.status_code == 200
    assert newest.call("GET", "/me").status_code == 401


def test_a_ban_ends_every_live_session_of_the_account(server: LiveServer, alice: Api,
                                                      bob: Api) -> None:
    bob.ok("POST", "/reports", json={"target_type": "user", "target_id": alice.id,
                                     "reason": "terrorism"})
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    cursor = alice.sync()["cursor"]
    sock = Socket(server.ws_url, alice.token or "", cursor=cursor)
    assert sock.ready()["type"] == "ready"
    with ThreadPoolExecutor(max_workers=1) as pool:
        poll: Future[Any] = pool.submit(_long_poll, server.url, alice.token or "", cursor)
        wait_until(lambda: _sinks(server) == 2, message="the poll waiting")
        mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={
            "action": "ban_user", "reason": "terrorism", "facts": "Glorified an attack."})
        banned_at = time.monotonic()
        response, when = poll.result(timeout=10)
    assert response.status_code == 401
    assert when - banned_at <= CUT_S
    # The socket is told why (4403), as for a suspension.
    assert sock.recv_until(lambda f: f["type"] == "account.restricted")["status"] == "banned"
    assert _closed_with(sock)[0] == 4403


# -- 2. device tokens never expire -------------------------------------------------------


def _last_seen(server: LiveServer, device_id: int, days_ago: int) -> None:
    """As if the device had not been used for `days_ago` days."""
    runtime = server.app.state.runtime
    when = server.clock.now_ms() - days_ago * 24 * 3600 * 1000

    async def age() -> None:
        await runtime.writer.run(lambda tx: tx.stores.devices.touch(tx.conn, device_id, when))

    server.run_async(age())


def test_a_device_unused_for_180_days_stops_working_and_its_sessions_end(
        server: LiveServer) -> None:
    lost = server.sign_up("Dee", phone=PHONE)
    kept = server.sign_up(phone=PHONE)
    cursor = kept.sync()["cursor"]
    sock = Socket(server.ws_url, lost.token or "", cursor=cursor)
    assert sock.ready()["type"] == "ready"
    device = _other_device(kept)
    with ThreadPoolExecutor(max_workers=1) as pool:
        poll = pool.submit(_long_poll, server.url, lost.token or "", cursor)
        wait_until(lambda: _sinks(server) == 2, message="the poll waiting")
        _last_seen(server, device, days_ago=179)
        server.run_async(server.app.state.services.auth.do_sweep())
        assert not poll.done()  # 179 days is not idle enough
        _last_seen(server, device, days_ago=181)
        server.run_async(server.app.state.services.auth.do_sweep())
        swept_at = time.monotonic()
        response, when = poll.result(timeout=10)
    assert response.status_code == 401
    assert when - swept_at <= CUT_S
    assert sock.recv_until(lambda f: f["type"] == "device.revoked")["reason"] == "expired"
    assert _closed_with(sock)[0] == 4401
    lost.call("GET", "/me", expect=401)
    kept.ok("GET", "/me")
    # Without waiting for a sweep: a stale token is refused, and signed out, when it is used.
    stale = server.sign_up(phone=PHONE)
    _last_seen(server, _other_device(kept), days_ago=181)
    stale.call("GET", "/me", expect=401)
    assert [d["current"] for d in kept.ok("GET", "/devices")["devices"]] == [True]


# -- 3. code guesses race the limit ------------------------------------------------------


def _sign_in(server: LiveServer, code: str, phone: str = PHONE) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/auth/sign-in", timeout=30, json={
        "phone": phone, "code": code, "device_name": "guess"})


def test_parallel_wrong_codes_get_five_checks_and_a_new_code_gives_none_more(
        server: LiveServer) -> None:
    anon = Api(server.url)
    anon.ok("POST", "/auth/request-code", json={"phone": PHONE})
    code = server.codes.codes[PHONE]
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 51)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda guess: _sign_in(server, guess), wrong))
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {400: 5, 429: 45}, statuses
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 400} == {
        "code_invalid"}
    assert all(int(r.headers["retry-after"]) > 0 for r in answers if r.status_code == 429)
    # Asking for a new code buys no more guesses: even the right one is refused now.
    anon.ok("POST", "/auth/request-code", json={"phone": PHONE})
    fresh = server.codes.codes[PHONE]
    assert _sign_in(server, f"{(int(fresh) + 1) % 1_000_000:06d}").status_code == 429
    assert _sign_in(server, fresh).status_code == 429
    # An hour later the number may try again.
    server.clock.advance(3600)
    anon.ok("POST", "/auth/request-code", json={"phone": PHONE})
    assert _sign_in(server, server.codes.codes[PHONE]).status_code == 200


# -- 4. code_expired vs code_invalid -----------------------------------------------------


def test_a_stranger_cannot_tell_an_expired_code_from_a_wrong_one(server: LiveServer) -> None:
    anon = Api(server.url)
    expired, asked, never = "+441632960971", "+441632960972", "+441632960973"
    anon.ok("POST", "/auth/request-code", json={"phone": expired})
    server.clock.advance(11 * 60)  # its code is ten minutes old: expired
    anon.ok("POST", "/auth/request-code", json={"phone": asked})
    guess = f"{(int(server.codes.codes[asked]) + 1) % 1_000_000:06d}"

    def answers(phone: str) -> list[tuple[int, object]]:
        return [(r.status_code, r.json()) for r in
                (_sign_in(server, guess, phone) for _ in range(6))]

    # The same answers, guess after guess, to the limit and past it.
    assert answers(expired) == answers(asked) == answers(never)
    assert answers(never)[0][0] == 429


# -- 5. bot tokens cannot be revoked or rotated ------------------------------------------


def _bot_poll(base_url: str, token: str) -> tuple[httpx.Response, float]:
    response = httpx.get(f"{base_url}/botapi/updates", timeout=60,
                         params={"access_token": token, "timeout": 30})
    return response, time.monotonic()


def _bot_me(server: LiveServer, token: str) -> int:
    return httpx.get(f"{server.url}/botapi/me", params={"access_token": token}).status_code


def _cut_while_polling(server: LiveServer, token: str, env: dict[str, str],
                       *command: str) -> list[str]:
    """Run the admin command while a long poll of `token` waits; it must answer 401 by the
    time the command is done (give or take the issue's second)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        poll = pool.submit(_bot_poll, server.url, token)
        wait_until(lambda: _sinks(server) == 1, message="the bot's poll waiting")
        out = _cli(env, *command)
        finished_at = time.monotonic()
        response, when = poll.result(timeout=10)
    assert (response.status_code, response.json()["code"]) == (401, "verify.token")
    assert when - finished_at <= CUT_S
    assert _bot_me(server, token) == 401
    return out


def _running(server: LiveServer) -> set[int]:
    async def running() -> set[int]:
        return set(server.app.state.webhooks.running)

    return set(server.run_async(running()))


def test_admin_revokes_and_rotates_bot_tokens_and_their_sessions_end(
        database_url: str, tmp_path: Path) -> None:
    # No Redis between the command and the server: long polls and webhooks find the
    # sign-out in storage (with Redis the event would also come over the bus).
    server = make_server(database_url, tmp_path, bot_webhook_allow_private=True)
    env = {**os.environ, "PYTHONPATH": str(SRC), "DARBUKA_LOG_LEVEL": "warning",
           "DARBUKA_DATABASE_URL": server.settings.database_url,
           "DARBUKA_DATA_DIR": str(tmp_path), "DARBUKA_REDIS_URL": ""}
    receiver = Receiver()
    try:
        made = _cli(env, "create-bot", "Echo", "--username", "echo_bot")
        bot_id, first = int(made[0].split()[1]), made[-1]
        said = f"bot {bot_id} Echo: 1 token(s) revoked, 0 webhook(s) removed"
        # Rotating, by @username: the old token's long poll ends; the new token works.
        rotated = _cut_while_polling(server, first, env, "rotate-bot-token", "@echo_bot")
        assert rotated[0] == said
        second = rotated[-1]
        assert second.startswith("dk_")
        assert second != first
        assert _bot_me(server, second) == 200
        # Revoking, by id: the bot has no token left.
        assert _cut_while_polling(server, second, env, "revoke-bot", str(bot_id)) == [said]
        # A new token brings it back; its webhook gets updates until it is revoked again.
        third = _cli(env, "rotate-bot-token", str(bot_id))[-1]
        httpx.post(f"{server.url}/botapi/subscriptions", params={"access_token": third},
                   json={"url": receiver.url}).raise_for_status()
        alice = server.sign_up("Alice")
        chat = alice.group("bots", [])
        alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot_id]})
        alice.send(chat["id"], "one")
        wait_until(lambda: receiver.texts() == ["one"], message="the webhook")
        assert _cli(env, "revoke-bot", "@Echo_Bot") == [
            f"bot {bot_id} Echo: 1 token(s) revoked, 1 webhook(s) removed"]
        alice.send(chat["id"], "two")
        # The sender finds the subscription gone before it posts "two", and stops.
        wait_until(lambda: bot_id not in _running(server), message="the webhook to stop")
        assert receiver.texts() == ["one"]
        assert _bot_me(server, third) == 401
        missing = subprocess.run([sys.executable, "-m", "darbuka", "admin", "revoke-bot",
                                  "@nobody_here"], env=env, capture_output=True, text=True,
                                 timeout=120)
        assert missing.returncode == 2
        assert "no bot" in missing.stderr
    finally:
        receiver.close()
        server.thread.stop()
