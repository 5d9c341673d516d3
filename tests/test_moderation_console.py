"""What the moderator console needs from the API, on a live server: claims on queue items,
queue filters, an item's full context, previews of held and removed files (a removed file's
viewing audited), each moderator's preview settings, and the list of preserved copies."""

from __future__ import annotations

from typing import Any

from darbuka.safety.audit import verify_chain
from tests.conftest import LiveServer
from tests.helpers import Api
from tests.safety_helpers import make_authority, order_for, staff
from tests.test_mediasafety import bank, encoded, photo, send_media, settled

MINUTE_S = 60


def report(api: Api, message: dict[str, Any], reason: str = "spam") -> None:
    api.ok("POST", "/reports", json={"target_type": "message", "target_id": message["id"],
                                     "reason": reason})


def queue(api: Api, **params: Any) -> list[dict[str, Any]]:
    return list(api.ok("GET", "/moderation/queue", params=params)["items"])


def test_a_claimed_item_is_one_moderators_until_released_or_lapsed(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    first, second = alice.send(chat["id"], "buy pills"), alice.send(chat["id"], "more pills")
    report(bob, first)
    report(bob, second)
    one, two = staff(server, "Mod One"), staff(server, "Mod Two")
    operator = staff(server, "Op", "operator")
    item, other = queue(one)
    assert item["claimed_by"] is None

    claimed = one.ok("POST", f"/moderation/items/{item['id']}/claim")
    assert claimed["claimed_by"] == one.id
    assert claimed["claim_expires_at"] == claimed["claimed_at"] + 15 * MINUTE_S * 1000
    (shown,) = [i for i in queue(two) if i["id"] == item["id"]]
    assert (shown["claimed_by"], shown["claimed_by_name"]) == (one.id, "Mod One")
    assert shown["claimed_at"] == claimed["claimed_at"]

    # While it holds, the second moderator may neither claim, nor decide, nor release it.
    for method, path, body in (("POST", "claim", None), ("POST", "decision",
                                                         {"action": "dismiss"}),
                               ("DELETE", "claim", None)):
        response = two.call(method, f"/moderation/items/{item['id']}/{path}", json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (
            409, "item_claimed"), path
    # Claiming again renews one's own claim.
    server.clock.advance(10 * MINUTE_S)
    renewed = one.ok("POST", f"/moderation/items/{item['id']}/claim")
    assert renewed["claimed_at"] > claimed["claimed_at"]
    server.clock.advance(10 * MINUTE_S)
    assert two.call("POST", f"/moderation/items/{item['id']}/claim").status_code == 409

    # A claim lapses by itself: then anyone may take the item.
    server.clock.advance(6 * MINUTE_S)
    assert queue(two, assignee="unclaimed")[0]["id"] == item["id"]
    assert two.ok("POST", f"/moderation/items/{item['id']}/claim")["claimed_by"] == two.id
    assert one.call("DELETE", f"/moderation/items/{item['id']}/claim").status_code == 409
    assert two.ok("DELETE", f"/moderation/items/{item['id']}/claim")["claimed_by"] is None
    assert [i["claimed_by"] for i in queue(one)] == [None, None]

    # An operator releases or decides a claimed item all the same.
    one.ok("POST", f"/moderation/items/{other['id']}/claim")
    assert operator.ok("DELETE", f"/moderation/items/{other['id']}/claim")["claimed_by"] is None
    one.ok("POST", f"/moderation/items/{other['id']}/claim")
    operator.ok("POST", f"/moderation/items/{other['id']}/decision", json={"action": "dismiss"})
    assert one.call("POST", f"/moderation/items/{other['id']}/claim").json()["error"][
        "code"] == "already_decided"
    # The claimer decides their own claimed item.
    one.ok("POST", f"/moderation/items/{item['id']}/claim")
    one.ok("POST", f"/moderation/items/{item['id']}/decision", json={"action": "dismiss"})
    assert queue(one) == []
    assert one.call("POST", "/moderation/items/999999/claim").status_code == 404
    assert alice.call("POST", f"/moderation/items/{item['id']}/claim").status_code == 404


def test_a_claimed_orders_item_is_answered_by_its_claimer(server: LiveServer, alice: Api,
                                                          bob: Api) -> None:
    chat = alice.direct(bob)
    message = alice.send(chat["id"], "ordered")
    order = make_authority(server, server.sign_up("Authority")).ok(
        "POST", "/orders", json=order_for(message))
    one, two = staff(server, "Mod One"), staff(server, "Mod Two")
    one.ok("POST", f"/moderation/items/{order['item_id']}/claim")
    for path, body in (("confirm", {}), ("refuse", {"reason": "manifest_error"})):
        response = two.call("POST", f"/moderation/orders/{order['id']}/{path}", json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (
            409, "item_claimed"), path
    assert one.ok("POST", f"/moderation/orders/{order['id']}/confirm", json={})[
        "state"] == "executed"


def test_the_queue_narrows_by_source_reason_age_and_assignee(
        server: LiveServer, alice: Api, bob: Api) -> None:
    bank(server, "to-check", "review", photo("chelsea"))
    chat = alice.direct(bob)
    spam = alice.send(chat["id"], "buy pills")
    report(bob, spam, "spam")
    server.clock.advance(30 * MINUTE_S)
    threat = alice.send(chat["id"], "attack")
    report(bob, threat, "terrorism")
    held = settled(alice, encoded(photo("chelsea")))
    mod, other = staff(server, "Mod"), staff(server, "Other")
    ids = {i["target_id"] if i["target_type"] == "message" else i["target_key"]: i["id"]
           for i in queue(mod)}
    assert len(ids) == 3

    def found(**params: Any) -> set[Any]:
        return {i["id"] for i in queue(mod, **params)}

    assert found(source="hash_match") == {ids[held["id"]]}
    assert found(source="report", reason="terrorism") == {ids[threat["id"]]}
    assert found(target_type="message") == {ids[spam["id"]], ids[threat["id"]]}
    assert found(older_than_s=20 * MINUTE_S) == {ids[spam["id"]]}
    other.ok("POST", f"/moderation/items/{ids[spam['id']]}/claim")
    mod.ok("POST", f"/moderation/items/{ids[threat['id']]}/claim")
    assert found(assignee="mine") == {ids[threat["id"]]}
    assert found(assignee=str(other.id)) == {ids[spam["id"]]}
    assert found(assignee="unclaimed") == {ids[held["id"]]}
    for bad in ({"assignee": "yours"}, {"source": "rumour"}, {"older_than_s": -1},
                {"reason": "dislike"}):
        assert mod.call("GET", "/moderation/queue", params=bad).status_code in (400, 422), bad


def test_an_item_shows_the_senders_history_the_files_other_places_and_its_matches(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    bank(server, "to-check", "review", photo("chelsea"))
    first, second = alice.group("first", [bob]), alice.group("second", [carol])
    earlier = alice.send(first["id"], "an earlier one")
    report(bob, earlier)
    mod = staff(server, "Mod")
    (old,) = queue(mod)
    mod.ok("POST", f"/moderation/items/{old['id']}/decision", json={"action": "dismiss"})
    media = settled(alice, encoded(photo("astronaut")))
    posted = send_media(alice, first["id"], media["id"]).json()
    send_media(alice, second["id"], media["id"])
    report(bob, posted, "terrorism")
    (item,) = queue(mod)
    assert "history" not in item["context"]  # the queue stays light: only the item has it

    full = mod.ok("GET", f"/moderation/items/{item['id']}")["context"]
    assert full["sender"]["id"] == alice.id
    assert [(h["id"], h["status"], h["decision"]) for h in full["history"]] == [
        (old["id"], "dismissed", "dismiss")]
    assert {(a["chat_id"], a["chat_title"], a["removed"]) for a in full["appearances"]} == {
        (first["id"], "first", False), (second["id"], "second", False)}
    assert full["matches"] == []
    # A hash match says which bank matched and how near.
    held = settled(alice, encoded(photo("chelsea").resize((400, 300)), quality=60))
    (match_item,) = queue(mod, source="hash_match")
    context = mod.ok("GET", f"/moderation/items/{match_item['id']}")["context"]
    assert context["uploader"]["id"] == alice.id
    assert context["media"]["id"] == held["id"]
    (match,) = [m for m in context["matches"] if m["signal"] == "pdq"]
    assert (match["bank_name"], match["outcome"]) == ("to-check", "review")
    assert 0 <= match["distance"] <= 31
    assert [h["id"] for h in context["history"]][-1] == old["id"]


def test_moderators_preview_held_and_removed_files_and_removed_ones_are_audited(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    bank(server, "to-check", "review", photo("chelsea"))
    group = alice.group("first", [bob])
    media = settled(alice, encoded(photo("astronaut")))
    posted = send_media(alice, group["id"], media["id"]).json()
    report(bob, posted, "terrorism")
    held = settled(alice, encoded(photo("chelsea")))
    mod = staff(server, "Mod")
    match_item, report_item = queue(mod)

    # A held file and a file in a chat the moderator is not in: theirs to look at, uncached.
    assert match_item["target_key"] == held["id"]
    for item in (match_item, report_item):
        response = mod.call("GET", f"/moderation/items/{item['id']}/media/thumb", expect=200)
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["cache-control"] == "private, no-store"
        assert carol.call("GET", f"/moderation/items/{item['id']}/media/thumb").status_code == 404
    mod.call("GET", f"/media/{media['id']}/thumb", expect=404)  # not through the member door
    assert mod.call("GET", f"/moderation/items/{report_item['id']}/media/nope").status_code \
        == 404
    mod.ok("POST", f"/moderation/items/{report_item['id']}/decision",
           json={"action": "remove_media", "reason": "terrorism"})
    bob.call("GET", f"/media/{media['id']}/screen", expect=404)
    assert previewed(server) == []  # looking at held and reported files is the work itself
    # Removed: still shown to staff (it is the preserved copy), and each viewing audited.
    mod.call("GET", f"/moderation/items/{report_item['id']}/media/screen", expect=200)
    assert previewed(server) == [(mod.id, f"media:{media['id']}")]
    mod.call("GET", f"/moderation/items/{report_item['id']}/media/screen",
             headers={"range": "bytes=100-"}, expect=206)  # the same viewing, read on
    assert len(previewed(server)) == 1


def previewed(server: LiveServer) -> list[tuple[int, str]]:
    async def read() -> list[tuple[int, str]]:
        runtime = server.app.state.runtime
        async with runtime.db.read() as conn:
            assert (await verify_chain(conn, runtime.stores)).ok
            records = await runtime.stores.safety.audit_records(conn, after=0)
        return [(r["actor_id"], r["target"]) for r in records
                if r["action"] == "media.previewed"]

    return list(server.run_async(read()))


def test_preview_settings_are_each_moderators_own(server: LiveServer, alice: Api) -> None:
    mod, other = staff(server, "Mod"), staff(server, "Other")
    defaults = {"blur": True, "greyscale": True, "muted": True, "video_strip": True}
    assert mod.ok("GET", "/moderation/settings") == defaults
    assert mod.ok("PUT", "/moderation/settings", json={"blur": False}) == {
        **defaults, "blur": False}
    assert mod.ok("PUT", "/moderation/settings", json={"greyscale": False}) == {
        **defaults, "blur": False, "greyscale": False}
    assert mod.ok("GET", "/moderation/settings")["blur"] is False
    assert other.ok("GET", "/moderation/settings") == defaults
    assert mod.call("PUT", "/moderation/settings", json={"blur": "maybe"}).status_code == 422
    assert alice.call("GET", "/moderation/settings").status_code == 404


def test_operators_list_preserved_copies_with_their_purge_dates(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    messages = [alice.send(chat["id"], f"bad {n}") for n in range(3)]
    mod, operator = staff(server, "Mod"), staff(server, "Op", "operator")
    for message in messages:
        report(bob, message)
        (item,) = queue(mod)
        mod.ok("POST", f"/moderation/items/{item['id']}/decision",
               json={"action": "remove_message"})
    copies = operator.ok("GET", "/moderation/preserved-copies", params={"limit": 2})["copies"]
    assert [c["target_id"] for c in copies] == [messages[2]["id"], messages[1]["id"]]
    assert all("content" not in c and c["keep_until"] > c["preserved_at"] for c in copies)
    rest = operator.ok("GET", "/moderation/preserved-copies",
                       params={"before": copies[-1]["id"]})["copies"]
    assert [c["target_id"] for c in rest] == [messages[0]["id"]]
    assert mod.call("GET", "/moderation/preserved-copies").status_code == 403
    assert alice.call("GET", "/moderation/preserved-copies").status_code == 404
