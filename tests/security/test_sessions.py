"""Sessions and sign-in: a code cannot be guessed by racing the limit or asking again."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import LiveServer
from tests.helpers import Api

PHONE = "+441632960961"


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
