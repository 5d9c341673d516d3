"""Anti-spam: new accounts' limits on new chats and direct chats, and the same content sent
into many chats held for review — on the test app's fake clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, make_server
from tests.helpers import Api, new_client_id
from tests.safety_helpers import staff

SPAM = "Win a free phone today at example.invalid/prize"


@pytest.fixture
def strict(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server with small anti-spam limits: 2 of each for new accounts, 2 chats a text."""
    srv = make_server(database_url, tmp_path, new_account_chats=2, new_account_direct_chats=2,
                      spam_same_content_chats=2, spam_window_s=600)
    yield srv
    srv.thread.stop()


def old_accounts(server: LiveServer, *names: str) -> list[Api]:
    """Accounts past their first day, at the start of a spread window (the counts are in
    fixed windows: a test sending across a boundary would start a new count)."""
    accounts = [server.sign_up(name) for name in names]
    server.clock.advance(24 * 3600 + 1)
    now_s = server.clock.now_ms() / 1000
    server.clock.advance(600 - now_s % 600 + 1)
    return accounts


def refused(api: Api, body: dict[str, object]) -> tuple[int, str]:
    response = api.call("POST", "/chats", json=body)
    return response.status_code, response.json()["error"]["code"] if response.is_error else ""


def test_a_new_account_makes_few_groups_and_channels(strict: LiveServer) -> None:
    alice = strict.sign_up("Alice")
    alice.group("One", [])
    alice.ok("POST", "/chats", json={"kind": "channel", "title": "Two"})
    assert refused(alice, {"kind": "group", "title": "Three"}) == (429, "new_account_limit")
    response = alice.call("POST", "/chats", json={"kind": "group", "title": "Three"})
    assert 23 * 3600 < int(response.headers["retry-after"]) <= 24 * 3600
    # Direct chats are counted apart.
    alice.direct(strict.sign_up("Bob"))
    # A day later the account is no longer new.
    strict.clock.advance(24 * 3600 + 1)
    assert alice.group("Three", [])["title"] == "Three"


def test_a_new_account_starts_few_direct_chats(strict: LiveServer) -> None:
    alice, bob, carol, dave = (strict.sign_up(n) for n in ("Alice", "Bob", "Carol", "Dave"))
    first = alice.direct(bob)
    alice.direct(carol)
    assert refused(alice, {"kind": "direct", "user_id": dave.id}) == (429, "new_account_limit")
    # Opening one that exists is free, and the other side may still start one with her.
    assert alice.direct(bob)["id"] == first["id"]
    assert dave.direct(alice)["kind"] == "direct"
    strict.clock.advance(24 * 3600 + 1)
    assert alice.direct(strict.sign_up("Erin"))["kind"] == "direct"


def test_the_same_text_into_many_chats_is_held_for_review(strict: LiveServer) -> None:
    alice, bob = old_accounts(strict, "Alice", "Bob")
    chats = [alice.group(f"G{i}", [bob]) for i in range(3)]
    alice.send(chats[0]["id"], SPAM)
    alice.send(chats[1]["id"], "  win a FREE phone today at   example.invalid/prize ")
    response = alice.call("POST", f"/chats/{chats[2]['id']}/messages",
                          json={"client_id": new_client_id(), "text": SPAM}, expect=403)
    assert response.json()["error"]["code"] == "held_for_review"
    assert [m["text"] for m in bob.history(chats[2]["id"]) if m["kind"] == "text"] == []
    # Short texts are not counted; repeating in one chat is not spreading.
    for chat in chats:
        alice.send(chat["id"], "ok")
    # The moderator sees one item about alice, with what was held.
    moderator = staff(strict, "Mod")
    items = moderator.ok("GET", "/moderation/queue")["items"]
    assert [(i["source"], i["target_type"], i["target_id"]) for i in items] == [
        ("spam", "user", alice.id)]
    item = moderator.ok("GET", f"/moderation/items/{items[0]['id']}")
    assert [(h["chat_id"], h["text"]) for h in item["context"]["held"]] == [
        (chats[2]["id"], SPAM)]
    # Dismissed, the held send is posted as it was asked for.
    moderator.ok("POST", f"/moderation/items/{items[0]['id']}/decision",
                 json={"action": "dismiss"})
    assert SPAM in [m["text"] for m in bob.history(chats[2]["id"])]


def test_a_spread_window_passes(strict: LiveServer) -> None:
    alice, bob = old_accounts(strict, "Alice", "Bob")
    chats = [alice.group(f"G{i}", [bob]) for i in range(4)]
    alice.send(chats[0]["id"], SPAM)
    alice.send(chats[1]["id"], SPAM)
    alice.call("POST", f"/chats/{chats[2]['id']}/messages",
               json={"client_id": new_client_id(), "text": SPAM}, expect=403)
    strict.clock.advance(601)
    assert alice.send(chats[3]["id"], SPAM)["text"] == SPAM
