"""Finding a user by @username: exact match after the handle normalisation, nothing more."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from tests.conftest import LiveServer, make_server
from tests.helpers import Api


def _code(api: Api, name: str, status: int) -> str:
    response = api.call("GET", f"/users/by-username/{quote(name, safe='')}", expect=status)
    return str(response.json()["error"]["code"])


def test_an_exact_username_finds_the_user_however_it_is_written(alice: Api, bob: Api) -> None:
    bob.ok("PATCH", "/me", json={"username": "Bob_Name", "about": "hi"})
    profile = bob.ok("GET", f"/users/{bob.id}")
    for spelling in ("bob_name", "Bob_Name", "@bob_name", "BOB_NAME", " @bob_name ",
                     # Full-width letters fold to ASCII (NFKC), as when the handle was taken.
                     "\uff42\uff4f\uff42\uff3f\uff4e\uff41\uff4d\uff45"):
        found = alice.ok("GET", f"/users/by-username/{quote(spelling, safe='')}")
        assert found == profile
        assert "phone" not in found


def test_no_prefix_no_lookalike_and_no_unknown_name(alice: Api, bob: Api) -> None:
    bob.ok("PATCH", "/me", json={"username": "bob_name"})
    for name in ("bob_", "bob_nam", "bob_names", "bobname", "b0b_name", "nobody_here"):
        assert _code(alice, name, 404) == "user_not_found"
    # A Cyrillic a (U+0430) is no handle at all (other scripts are refused), so it finds nobody.
    assert _code(alice, "bob_n\u0430me", 400) == "invalid_username"


def test_bad_names_are_refused_clearly(alice: Api) -> None:
    for name in ("@", " ", "abc", "a" * 33, "1abc", "bob name", "bob%name", "x" * 150):
        assert _code(alice, name, 400) == "invalid_username"
    alice.call("GET", f"/users/by-username/{'a' * 5000}", expect=422)


def test_someone_who_blocked_you_is_not_found(alice: Api, bob: Api, server: LiveServer) -> None:
    bob.ok("PATCH", "/me", json={"username": "bob_name"})
    alice.ok("PATCH", "/me", json={"username": "alice_name"})
    bob.call("PUT", f"/me/blocked/{alice.id}", expect=204)
    blocked = alice.call("GET", "/users/by-username/bob_name", expect=404)
    unknown = alice.call("GET", "/users/by-username/nobody_here", expect=404)
    assert blocked.text == unknown.text
    # The blocker still finds the blocked user, and others still find the blocker.
    assert bob.ok("GET", "/users/by-username/alice_name")["id"] == alice.id
    carol = server.sign_up("Carol")
    assert carol.ok("GET", "/users/by-username/bob_name")["id"] == bob.id
    bob.call("DELETE", f"/me/blocked/{alice.id}", expect=204)
    assert alice.ok("GET", "/users/by-username/bob_name")["id"] == bob.id


def test_lookups_are_rate_limited_per_account(database_url: str, tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, username_lookups_per_hour=3)
    try:
        alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
        bob.ok("PATCH", "/me", json={"username": "bob_name"})
        for name in ("bob_name", "nobody_here", "abc"):
            assert alice.call("GET", f"/users/by-username/{name}").status_code in (200, 400, 404)
        limited = alice.call("GET", "/users/by-username/bob_name", expect=429)
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 3600
        # The limit is the account's own: another account is not held back.
        assert bob.ok("GET", "/users/by-username/bob_name")["id"] == bob.id
        # The window ends; the account may look up again.
        server.clock.advance(3600)
        assert alice.ok("GET", "/users/by-username/bob_name")["id"] == bob.id
    finally:
        server.thread.stop()
