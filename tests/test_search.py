"""Message search through the API, on SQLite and PostgreSQL: Arabic and Latin forms find the
same message, only what the caller may see is found, and a message deleted, removed or
edited leaves the index at once."""

from __future__ import annotations

from typing import Any

import pytest

from darbuka.storage.searchtext import query_words
from tests.conftest import LiveServer
from tests.helpers import Api
from tests.safety_helpers import staff


def indexed(server: LiveServer, user: Api, q: str) -> list[int]:
    """What the index itself proposes to `user` for `q` (the service also drops stale hits,
    so this is how a test sees that a message left the index)."""
    runtime = server.app.state.runtime

    async def find() -> list[int]:
        async with runtime.db.read() as conn:
            ids: list[int] = await runtime.stores.search.find(
                conn, user.id, query_words(q), chat_id=None, before=None, limit=50)
            return ids

    result: list[int] = server.run_async(find())
    return result


def found(api: Api, q: str, **params: Any) -> list[int]:
    return [hit["message"]["id"] for hit in api.ok("GET", "/search",
                                                    params={"q": q, **params})["messages"]]


def test_arabic_with_and_without_tashkeel_and_alef_forms_finds_one_message(
        alice: Api, bob: Api) -> None:
    group = alice.group("مجلس", [bob])
    text = "قَرَأْتُ كِتَابَ أَحْمَد فِي مَدْرَسَةٍ على الطريق"
    message = alice.send(group["id"], text)
    alice.send(group["id"], "nothing to see here")
    for q in ("كتاب", "كِتَابَ", "كتـــاب", "احمد", "أحمد", "إحمد", "آحمد", "مدرسة", "مدرسه",
              "علي", "على", "كتاب احمد"):
        assert found(bob, q) == [message["id"]], q
    (hit,) = bob.ok("GET", "/search", params={"q": "احمد مدرسه"})["messages"]
    assert [text[a:b] for a, b in hit["ranges"]] == ["أَحْمَد", "مَدْرَسَةٍ"]
    assert found(bob, "كتابة") == []


def test_latin_case_and_diacritics_fold_and_ranges_count_utf16(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    text = "🎉 Crème Brûlée at the CAFÉ"
    message = alice.send(chat["id"], text)
    for q in ("creme brulee", "CRÈME", "café", "bru"):
        assert found(bob, q) == [message["id"]], q
    (hit,) = bob.ok("GET", "/search", params={"q": "cafe"})["messages"]
    # The emoji is two UTF-16 code units: the ranges are in the web client's unit.
    utf16 = text.encode("utf-16-le")
    assert [utf16[2 * a:2 * b].decode("utf-16-le") for a, b in hit["ranges"]] == ["CAFÉ"]


def test_an_outsider_finds_nothing_and_cannot_search_a_chat(
        server: LiveServer, alice: Api, bob: Api) -> None:
    group = alice.group("Secret plans", [bob])
    alice.send(group["id"], "the password is swordfish")
    outsider = server.sign_up("Eve")
    assert found(outsider, "swordfish") == []
    assert found(bob, "swordfish") != []
    response = outsider.call("GET", "/search", params={"q": "swordfish",
                                                       "chat_id": group["id"]}, expect=404)
    assert response.json()["error"]["code"] == "chat_not_found"


def test_a_former_member_finds_what_they_saw_and_nothing_after(
        alice: Api, bob: Api) -> None:
    group = alice.group("Club", [bob])
    before = alice.send(group["id"], "meeting on tuesday")
    bob.call("POST", f"/chats/{group['id']}/leave", expect=204)
    alice.send(group["id"], "meeting moved to friday")
    assert found(bob, "meeting") == [before["id"]]
    assert found(bob, "friday") == []
    assert len(found(alice, "meeting")) == 2


def test_newest_first_paged_and_within_one_chat(alice: Api, bob: Api) -> None:
    group, other = alice.group("One", [bob]), alice.group("Two", [bob])
    sent = [alice.send(group["id"], f"report number {n}")["id"] for n in range(5)]
    elsewhere = alice.send(other["id"], "report elsewhere")["id"]
    first = bob.ok("GET", "/search", params={"q": "report", "limit": 3})
    assert [h["message"]["id"] for h in first["messages"]] == [elsewhere, sent[4], sent[3]]
    rest = found(bob, "report", limit=3, before=first["next_before"])
    assert rest == sent[2::-1]
    assert found(bob, "report", chat_id=group["id"]) == sent[::-1]


def test_an_edit_reindexes_and_a_delete_leaves_the_index(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.group("Edits", [bob])
    message = alice.send(chat["id"], "see you at noon")
    assert indexed(server, bob, "noon") == [message["id"]]
    alice.ok("PATCH", f"/chats/{chat['id']}/messages/{message['id']}",
             json={"text": "see you at midnight"})
    assert found(bob, "noon") == [] == indexed(server, bob, "noon")
    assert found(bob, "midnight") == [message["id"]] == indexed(server, bob, "midnight")
    alice.call("DELETE", f"/chats/{chat['id']}/messages/{message['id']}")
    assert found(bob, "midnight") == [] == indexed(server, bob, "midnight")
    assert found(alice, "see") == [] == indexed(server, alice, "see")


def test_a_blocked_senders_removed_message_is_found_by_nobody(
        server: LiveServer, alice: Api) -> None:
    mallory = server.sign_up("Mallory")
    chat = mallory.direct(alice)
    bad = mallory.send(chat["id"], "buy forbidden weapons here")
    alice.call("PUT", f"/me/blocked/{mallory.id}", expect=204)
    alice.ok("POST", "/reports", json={"target_type": "message", "target_id": bad["id"],
                                       "reason": "terrorism"})
    mod = staff(server, "Mod")
    assert found(alice, "weapons") == [bad["id"]]
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    mod.ok("POST", f"/moderation/items/{item['id']}/decision",
           json={"action": "remove_message", "reason": "terrorism"})
    for who in (alice, mallory, mod):
        assert found(who, "weapons") == [] == indexed(server, who, "weapons")
        assert found(who, "forbidden weapons") == []


def test_chats_and_people_by_name(server: LiveServer, alice: Api, bob: Api) -> None:
    alice.group("Études françaises", [bob])
    alice.group("Chess", [bob])
    zoe = server.sign_up("Zoë Ångström")
    alice.direct(zoe)
    result = alice.ok("GET", "/search", params={"q": "etudes"})
    assert [c["title"] for c in result["chats"]] == ["Études françaises"]
    assert [p["id"] for p in alice.ok("GET", "/search", params={"q": "angstrom"})["people"]] \
        == [zoe.id]
    # Not someone the caller has no direct chat with.
    assert bob.ok("GET", "/search", params={"q": "zoe"})["people"] == []


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "!!!"}, {"q": "x" * 201},
                                    {"q": "a", "limit": 0}, {"q": "a", "limit": "many"},
                                    {"q": "a", "before": -1}, {"q": "a", "chat_id": "x"}, {}])
def test_bad_queries_are_refused(alice: Api, params: dict[str, Any]) -> None:
    response = alice.call("GET", "/search", params=params)
    assert response.status_code in (400, 422), response.text
    assert "error" in response.json()


def test_a_reinstated_message_is_found_again(server: LiveServer, alice: Api,
                                             bob: Api) -> None:
    chat = alice.direct(bob)
    message = alice.send(chat["id"], "a documentary about the war")
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": message["id"],
                                     "reason": "violence"})
    first, second = staff(server, "First"), staff(server, "Second")
    (item,) = first.ok("GET", "/moderation/queue")["items"]
    decision = first.ok("POST", f"/moderation/items/{item['id']}/decision",
                        json={"action": "remove_message", "reason": "violence"})
    assert indexed(server, bob, "documentary") == []
    appeal = alice.ok("POST", "/appeals", json={"statement_id": decision["statement_id"],
                                                "text": "It is journalism."})
    second.ok("POST", f"/moderation/appeals/{appeal['id']}/decision",
              json={"outcome": "reversed"})
    assert found(bob, "documentary") == [message["id"]] == indexed(server, bob, "documentary")
