"""Contact discovery: normalised numbers, privacy, "X joined", and quotas against enumeration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, make_server
from tests.helpers import Api, Socket


def test_import_finds_users_by_any_spelling_of_their_number(server: LiveServer) -> None:
    alice = server.sign_up("Alice", phone="+447700900001")
    bob = server.sign_up("Bob", phone="+447700900002")
    carol = server.sign_up("Carol", phone="+447700900003")
    found = alice.ok("POST", "/contacts/import", json={"phones": [
        "07700 900002",         # national form: read in alice's own country (GB)
        "+44 (7700) 900-002",   # the same number again
        "+447700900003",
        "+447700900001",        # herself: never listed
        "not a number", "+1", 42, None, "",
        "+447700900099",        # nobody has it
    ]})
    assert [u["user"]["id"] for u in found["users"]] == [bob.id, carol.id]
    assert [u["phone"] for u in found["users"]] == ["+447700900002", "+447700900003"]
    assert "phone" not in found["users"][0]["user"]
    assert found["malformed"] == 5
    assert found["duplicates"] == 1
    assert found["limited"] == 0


def test_numbers_are_stored_only_as_keyed_hashes(server: LiveServer) -> None:
    alice = server.sign_up(phone="+447700900011")
    alice.ok("POST", "/contacts/import", json={"phones": ["+447700900012"]})
    runtime = server.app.state.runtime

    async def stored() -> list[bytes]:
        async with runtime.db.read() as conn:
            return list(await runtime.stores.contacts.owners_of(
                conn, runtime.services.privacy.hasher("+447700900012")))

    assert server.run_async(stored()) == [alice.id]
    hasher = runtime.services.privacy.hasher
    assert hasher("+447700900012") != hasher("+447700900013")


def test_find_by_phone_privacy(server: LiveServer) -> None:
    alice = server.sign_up(phone="+447700900021")
    bob = server.sign_up(phone="+447700900022")
    for setting, visible in (("nobody", False), ("contacts", False), ("everyone", True)):
        bob.ok("PATCH", "/me/privacy", json={"find_by_phone": setting})
        found = alice.ok("POST", "/contacts/import", json={"phones": ["+447700900022"]})
        assert bool(found["users"]) is visible, setting
    # "contacts": found by those whose number bob has in his own address book.
    bob.ok("PATCH", "/me/privacy", json={"find_by_phone": "contacts"})
    bob.ok("POST", "/contacts/import", json={"phones": ["+447700900021"]})
    found = alice.ok("POST", "/contacts/import", json={"phones": ["+447700900022"]})
    assert [u["user"]["id"] for u in found["users"]] == [bob.id]
    assert bob.ok("GET", "/me/privacy") == {"find_by_phone": "contacts",
                                            "last_seen": "everyone", "group_add": "everyone"}


def test_those_who_had_the_number_hear_that_its_owner_joined(server: LiveServer) -> None:
    alice = server.sign_up(phone="+447700900031")
    carol = server.sign_up(phone="+447700900033")
    alice.ok("POST", "/contacts/import", json={"phones": ["+447700900032"]})
    carol.ok("POST", "/contacts/import", json={"phones": ["+447700900032"]})
    carol.ok("PUT", f"/me/blocked/{alice.id}")  # unrelated to bob: carol still hears
    cursor = alice.sync()["cursor"]
    sock = Socket(server.ws_url, carol.token or "", cursor=carol.sync()["cursor"])
    sock.ready()
    bob = server.sign_up("Bob", phone="+447700900032")
    frame = sock.recv_until(lambda f: f["type"] == "contact.joined")
    assert frame["user"]["id"] == bob.id
    assert frame["phone"] == "+447700900032"
    events, _ = alice.sync_all(cursor)
    assert [(e["type"], e["user"]["id"]) for e in events] == [("contact.joined", bob.id)]
    sock.close()


@pytest.fixture
def small_quota(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = make_server(database_url, tmp_path, contacts_new_per_day=50, contacts_max_total=80)
    yield srv
    srv.thread.stop()


def _numbers(start: int, count: int) -> list[str]:
    return [f"+1415555{n:04d}" for n in range(start, start + count)]


def test_an_enumeration_attempt_is_stopped(small_quota: LiveServer) -> None:
    server = small_quota
    target = server.sign_up(phone="+14155550120")
    scraper = server.sign_up(phone="+447700900041")
    # A sweep of 200 consecutive numbers: only the first 50 new ones are looked up.
    first = scraper.ok("POST", "/contacts/import", json={"phones": _numbers(0, 200)})
    assert first["limited"] == 150
    assert first["users"] == []  # the target's number (…0120) was past the quota
    # The quota is spent: new numbers get 429 with Retry-After; known ones still answer.
    denied = scraper.call("POST", "/contacts/import", json={"phones": _numbers(120, 1)},
                          expect=429)
    assert int(denied.headers["retry-after"]) > 0
    assert scraper.ok("POST", "/contacts/import",
                      json={"phones": _numbers(0, 50)})["limited"] == 0
    # A day later 50 more, then the lifetime cap (80) holds for good.
    server.clock.advance(24 * 3600 + 1)
    again = scraper.ok("POST", "/contacts/import", json={"phones": _numbers(50, 100)})
    assert again["limited"] == 70
    assert [u["user"]["id"] for u in again["users"]] == []
    server.clock.advance(24 * 3600 + 1)
    scraper.call("POST", "/contacts/import", json={"phones": _numbers(120, 1)}, expect=429)
    # An honest address book of a few numbers is untouched by any of this.
    friend = server.sign_up(phone="+447700900042")
    found = friend.ok("POST", "/contacts/import", json={"phones": ["+14155550120"]})
    assert [u["user"]["id"] for u in found["users"]] == [target.id]


def test_huge_and_malformed_uploads_get_a_clear_4xx(server: LiveServer, alice: Api) -> None:
    huge = alice.call("POST", "/contacts/import",
                      json={"phones": [f"+1415555{n % 10000:04d}" for n in range(100_000)]})
    assert huge.status_code in (413, 422), huge.status_code
    assert set(huge.json()["error"]) == {"code", "message"}
    # Under the byte limit but over the item limit.
    many = alice.call("POST", "/contacts/import", json={"phones": ["1"] * 20_000})
    assert many.status_code == 422
    for body in ({"phones": "+14155550100"}, {"phones": [["nested"]]}, {}):
        response = alice.call("POST", "/contacts/import", json=body)
        assert response.status_code in (200, 422), (body, response.status_code)
    assert alice.ok("POST", "/contacts/import", json={"phones": [{"x": 1}]})["malformed"] == 1
