"""Sign-in by phone and code; device tokens; the admin command."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from darbuka.storage.tables.accounts import devices, login_codes
from tests.conftest import LiveServer, make_server
from tests.helpers import Api

PHONE = "+441632960961"


def request_code(server: LiveServer, phone: str = PHONE) -> str:
    Api(server.url).ok("POST", "/auth/request-code", json={"phone": phone})
    return server.codes.codes[phone]


def sign_in(server: LiveServer, code: str, phone: str = PHONE, expect: int = 200) -> dict:
    response = Api(server.url).call("POST", "/auth/sign-in", expect=expect, json={
        "phone": phone, "code": code, "device_name": "laptop"})
    return dict(response.json())


def test_sign_in_creates_user_and_device(server: LiveServer) -> None:
    code = request_code(server)
    assert len(code) == 6
    assert code.isdigit()
    result = sign_in(server, code)
    assert result["user"]["phone"] == PHONE
    api = Api(server.url, result["token"])
    assert api.ok("GET", "/me")["id"] == result["user"]["id"]
    # The same number signs in to the same user on a second device.
    second = sign_in(server, request_code(server))
    assert second["user"]["id"] == result["user"]["id"]
    assert second["token"] != result["token"]
    assert len(api.ok("GET", "/devices")["devices"]) == 2


def test_number_is_normalised_to_e164(server: LiveServer) -> None:
    Api(server.url).ok("POST", "/auth/request-code", json={"phone": "+44 1632 960-961"})
    assert PHONE in server.codes.codes
    bad = Api(server.url).call("POST", "/auth/request-code", json={"phone": "12345"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_phone"


def test_code_is_single_use(server: LiveServer) -> None:
    code = request_code(server)
    sign_in(server, code)
    assert sign_in(server, code, expect=400)["error"]["code"] == "code_invalid"


def test_code_expires_after_ten_minutes(server: LiveServer) -> None:
    code = request_code(server)
    server.clock.advance(10 * 60 + 1)
    assert sign_in(server, code, expect=400)["error"]["code"] == "code_invalid"


def test_five_wrong_attempts_burn_the_code(server: LiveServer) -> None:
    code = request_code(server)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert sign_in(server, wrong, expect=400)["error"]["code"] == "code_invalid"
    # The right code no longer works after five wrong ones.
    assert sign_in(server, code, expect=429)["error"]["code"] == "rate_limited"


def test_code_requests_are_rate_limited_per_number(server: LiveServer) -> None:
    api = Api(server.url)
    for _ in range(5):
        api.ok("POST", "/auth/request-code", json={"phone": PHONE})
    response = api.call("POST", "/auth/request-code", json={"phone": PHONE}, expect=429)
    assert int(response.headers["retry-after"]) > 0
    # Another number is not affected; an hour later this one works again.
    api.ok("POST", "/auth/request-code", json={"phone": "+441632960962"})
    server.clock.advance(3600)
    api.ok("POST", "/auth/request-code", json={"phone": PHONE})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_code_requests_and_sign_ins_are_rate_limited_per_ip(database_url: str,
                                                            tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, code_requests_per_ip_hour=3,
                         sign_ins_per_ip_hour=4)
    try:
        api = Api(server.url)
        for i in range(3):
            api.ok("POST", "/auth/request-code", json={"phone": f"+44163296097{i}"})
        api.call("POST", "/auth/request-code", json={"phone": "+441632960979"}, expect=429)
        for _ in range(4):
            sign_in(server, "000000", phone="+441632960970", expect=400)
        sign_in(server, "000000", phone="+441632960970", expect=429)
    finally:
        server.thread.stop()


def test_tokens_and_codes_are_stored_only_hashed(server: LiveServer) -> None:
    code = request_code(server)
    token = sign_in(server, code)["token"]

    async def stored() -> tuple[list[bytes], list[bytes]]:
        runtime = server.app.state.runtime
        async with runtime.db.read() as conn:
            hashes = list((await conn.execute(select(devices.c.token_hash))).scalars())
            codes = list((await conn.execute(select(login_codes.c.code_hash))).scalars())
        return hashes, codes

    request_code(server, "+441632960962")
    hashes, codes = server.run_async(stored())
    assert hashlib.sha256(token.encode()).digest() in hashes
    assert all(token.encode() not in h for h in hashes)
    assert len(codes) == 1
    assert server.codes.codes["+441632960962"].encode() not in codes[0]


def test_revoked_device_token_stops_working(server: LiveServer) -> None:
    first = sign_in(server, request_code(server))
    second = sign_in(server, request_code(server))
    api = Api(server.url, first["token"])
    listed = api.ok("GET", "/devices")["devices"]
    other = next(d for d in listed if not d["current"])
    api.call("DELETE", f"/devices/{other['id']}", expect=204)
    Api(server.url, second["token"]).call("GET", "/me", expect=401)
    api.call("GET", "/me", expect=200)
    api.call("DELETE", f"/devices/{other['id']}", expect=404)


def test_other_users_devices_cannot_be_revoked(server: LiveServer, alice: Api,
                                               bob: Api) -> None:
    bobs = bob.ok("GET", "/devices")["devices"][0]["id"]
    alice.call("DELETE", f"/devices/{bobs}", expect=404)
    bob.call("GET", "/me", expect=200)


def test_bad_tokens_are_refused(server: LiveServer) -> None:
    for header in ("", "Bearer", "Bearer dk_nope", "Basic abc", "Bearer " + "x" * 500):
        response = Api(server.url).call("GET", "/me", headers={"authorization": header})
        assert response.status_code == 401
        assert response.json()["error"]["code"] in ("unauthorized", "invalid_token")


def test_admin_issue_token_prints_a_working_token(tmp_path: Path) -> None:
    env = {**os.environ, "DARBUKA_DATABASE_URL": ""}
    darbuka = [sys.executable, "-m", "darbuka"]
    out = subprocess.run([*darbuka, "admin", "issue-token", "--phone", PHONE, "--name", "Op",
                          "--data-dir", str(tmp_path)], capture_output=True, text=True,
                         env=env, check=True, timeout=60)
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("dk_")
    server = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path)
    try:
        me = Api(server.url, token).ok("GET", "/me")
        assert me["phone"] == PHONE
        assert me["display_name"] == "Op"
    finally:
        server.thread.stop()


def test_webhook_code_sender_posts_json(tmp_path: Path) -> None:
    from darbuka.services.codes import WebhookCodeSender
    from darbuka.testing.server import free_port

    received: list[bytes] = []

    async def run() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            received.append(await reader.readexactly(length))
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        port = free_port()
        srv = await asyncio.start_server(handle, "127.0.0.1", port)
        async with srv:
            await WebhookCodeSender(f"http://127.0.0.1:{port}/sms").send(PHONE, "123456", 600)

    asyncio.run(run())
    import orjson

    assert orjson.loads(received[0]) == {"phone": PHONE, "code": "123456", "expires_in": 600}
