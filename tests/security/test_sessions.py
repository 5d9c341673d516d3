"""Sessions and sign-in: a code cannot be guessed by racing the limit or asking again."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import LiveServer
from tests.helpers import Api

PHONE = "+441632960961"


def _sign_in(server: LiveServer, code: str) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/auth/sign-in", timeout=30, json={
        "phone": PHONE, "code": code, "device_name": "guess"})


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
