"""Chat rules and moderation staff: who may change whom, who learns who else is in a
channel, what a removal takes down and what undoing it brings back (a review found each of
these open)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer, make_server
from tests.helpers import Api, Socket, new_client_id
from tests.media_helpers import jpeg, upload_ready
from tests.safety_helpers import make_authority, order_for, staff


def _forbidden(api: Api, method: str, path: str, code: str, **kwargs: Any) -> None:
    answer = api.call(method, path, expect=403, **kwargs)
    assert answer.json()["error"]["code"] == code, answer.text


def test_admins_give_only_the_rights_they_hold_and_change_only_their_own_admins(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    dave, erin = server.sign_up("Dave"), server.sign_up("Erin")
    group = alice.group("Rules", [bob, carol, dave, erin])
    gid = group["id"]
    members = f"/chats/{gid}/members"
    for admin in (bob, dave):
        alice.call("PATCH", f"{members}/{admin.id}", json={"role": "admin"}, expect=204)
    alice.ok("PUT", f"{members}/{bob.id}/rights",
             json={"rights": ["add_admins", "remove_members", "write"]})

    # Nobody edits their own rights.
    _forbidden(bob, "PUT", f"{members}/{bob.id}/rights", "cannot_change_self",
               json={"rights": ["add_admins", "remove_members", "write", "pin"]})
    # A promotion by an admin gives at most the promoter's own rights.
    bob.call("PATCH", f"{members}/{carol.id}", json={"role": "admin"}, expect=204)
    rights = {m["user_id"]: m.get("rights") for m in alice.ok("GET", members)["members"]}
    assert rights[carol.id] == ["remove_members", "write"]
    assert "pin" not in carol.ok("GET", f"/chats/{gid}")["rights"]
    # Nobody grants a right they lack; taking one away is fine.
    _forbidden(bob, "PUT", f"{members}/{carol.id}/rights", "missing_right",
               json={"rights": ["write", "pin"]})
    assert bob.ok("PUT", f"{members}/{carol.id}/rights",
                  json={"rights": ["write"]})["rights"] == ["write"]
    # Only the owner changes, demotes or removes an admin the owner appointed.
    _forbidden(bob, "PUT", f"{members}/{dave.id}/rights", "not_your_admin",
               json={"rights": []})
    _forbidden(bob, "PATCH", f"{members}/{dave.id}", "not_your_admin",
               json={"role": "member"})
    _forbidden(bob, "DELETE", f"{members}/{dave.id}", "not_your_admin")
    assert dave.ok("GET", f"/chats/{gid}")["role"] == "admin"
    # The admin who appointed one demotes and removes them; the owner changes anyone.
    bob.call("PATCH", f"{members}/{carol.id}", json={"role": "member"}, expect=204)
    bob.call("PATCH", f"{members}/{carol.id}", json={"role": "admin"}, expect=204)
    bob.call("DELETE", f"{members}/{carol.id}", expect=204)
    alice.ok("PUT", f"{members}/{bob.id}/rights", json={"rights": ["write"]})
    alice.call("PATCH", f"{members}/{dave.id}", json={"role": "member"}, expect=204)
    # Nobody acts on the owner.
    bob.call("PATCH", f"{members}/{erin.id}", json={"role": "admin"}, expect=403)
    _forbidden(dave, "DELETE", f"{members}/{alice.id}", "not_admin")


# What a viewer learns of who is in a channel: (type, whom it names).
_NAMING = ("member.joined", "member.left", "member.updated", "reaction.added",
           "reaction.removed", "reaction.counts", "message.new")


def _seen(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(e["type"], e.get("user_id") or e.get("message", {}).get("text"))
            for e in events if e["type"] in _NAMING]


def _live(server: LiveServer, api: Api) -> tuple[Socket, str]:
    cursor = api.sync()["cursor"]
    sock = Socket(server.ws_url, api.token or "", cursor=cursor)
    assert sock.ready()["type"] == "ready"
    return sock, cursor


def test_channel_subscribers_do_not_learn_who_else_subscribes(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    dave, erin = server.sign_up("Dave"), server.sign_up("Erin")
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "News",
                                               "public": True})
    cid = channel["id"]
    bob.ok("POST", f"/chats/{cid}/join")
    carol.ok("POST", f"/chats/{cid}/join")
    alice.call("PATCH", f"/chats/{cid}/members/{bob.id}", json={"role": "admin"}, expect=204)
    # Sockets open before dave and erin are members: joining must route them all the same.
    watch = {who: _live(server, who) for who in (bob, carol, dave, erin)}

    dave.ok("POST", f"/chats/{cid}/join")
    erin.ok("POST", f"/chats/{cid}/join")
    erin.ok("POST", f"/chats/{cid}/leave")
    post = alice.send(cid, "post")
    reactions = f"/chats/{cid}/messages/{post['id']}/reactions"
    carol.ok("PUT", reactions, json={"emoji": "👍"})
    dave.ok("PUT", reactions, json={"emoji": "👍"})
    carol.ok("DELETE", reactions, params={"emoji": "👍"})
    alice.send(cid, "end")

    # Subscribers hear only of themselves, and every member gets the counts.
    tally = ("reaction.counts", None)
    expected = {
        bob: [("member.joined", dave.id), ("member.joined", erin.id), ("member.left", erin.id),
              ("message.new", "post"), ("reaction.added", carol.id), tally,
              ("reaction.added", dave.id), tally, ("reaction.removed", carol.id), tally,
              ("message.new", "end")],
        carol: [("message.new", "post"), ("reaction.added", carol.id), tally, tally,
                ("reaction.removed", carol.id), tally, ("message.new", "end")],
        dave: [("member.joined", dave.id), ("message.new", "post"), tally,
               ("reaction.added", dave.id), tally, tally, ("message.new", "end")],
    }
    for who, want in expected.items():
        sock, cursor = watch[who]
        sock.recv_until(lambda f: f.get("message", {}).get("text") == "end")
        live = [f for f in sock.frames if "cursor" in f and f["type"] != "ready"]
        assert _seen(live) == want, who.user["display_name"]
        assert _seen(who.sync_all(cursor)[0]) == want, who.user["display_name"]
        tallies = [f for f in live if f["type"] == "reaction.counts"]
        assert [t["reactions"] for t in tallies] == [[{"emoji": "👍", "count": 1}],
                                                     [{"emoji": "👍", "count": 2}],
                                                     [{"emoji": "👍", "count": 1}]]
    # Erin left before the post: her socket was routed out of the channel again.
    erin.ok("PATCH", "/me", json={"display_name": "Erin E"})
    erin_sock = watch[erin][0]
    erin_sock.recv_until(lambda f: f["type"] == "user.updated")
    assert _seen(erin_sock.frames) == [("member.joined", erin.id), ("member.left", erin.id)]
    # No typing from subscribers: it would tell every subscriber online who is there.
    carol_sock = watch[carol][0]
    carol_sock.send_json({"type": "typing", "chat_id": cid, "id": "t1"})
    refused = carol_sock.recv_until(lambda f: f["type"] == "error")
    assert (refused["id"], refused["error"]["code"]) == ("t1", "cannot_post")
    # The member list stays the admins'.
    _forbidden(carol, "GET", f"/chats/{cid}/members", "not_admin")
    for sock, _ in watch.values():
        sock.close()


def test_a_removed_message_takes_its_media_down_until_it_is_reinstated(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    dave = server.sign_up("Dave")
    media = upload_ready(alice, jpeg(320, 240), kind="photo", filename="p.jpg")
    file = f"/media/{media['id']}/{media['variants'][0]}"
    here, there = alice.group("Here", [bob, carol]), carol.group("There", [dave])
    posted = alice.send(here["id"], "", media_id=media["id"])
    forwarded = carol.send(there["id"], "", forward_of=posted["id"])
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": posted["id"],
                                     "reason": "terrorism"})
    mod, other_mod = staff(server, "Mod"), staff(server, "Other")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    decision = mod.ok("POST", f"/moderation/items/{item['id']}/decision",
                      json={"action": "remove_message", "reason": "terrorism"})

    # Gone for the chat's members and its uploader, and not attachable again.
    assert bob.call("GET", file).status_code == 404
    assert alice.call("GET", file).status_code == 404
    again = alice.call("POST", f"/chats/{here['id']}/messages",
                       json={"client_id": new_client_id(), "media_id": media["id"]})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "media_removed")
    # The forward is a message of its own: its decision (or remove_media) is apart.
    assert dave.history(there["id"])[-1]["id"] == forwarded["id"]
    assert dave.call("GET", file).status_code == 200

    appeal = alice.ok("POST", "/appeals", json={"statement_id": decision["statement_id"],
                                                "text": "A holiday photo."})
    other_mod.ok("POST", f"/moderation/appeals/{appeal['id']}/decision",
                 json={"outcome": "reversed"})
    assert bob.call("GET", file).status_code == 200
    assert alice.call("GET", file).status_code == 200
    assert alice.send(here["id"], "", media_id=media["id"])["media"]["id"] == media["id"]


def _remove_on_report(mod: Api, reporter: Api, message: dict[str, Any]) -> dict[str, Any]:
    reporter.ok("POST", "/reports", json={"target_type": "message", "target_id": message["id"],
                                          "reason": "terrorism"})
    item = next(i for i in mod.ok("GET", "/moderation/queue")["items"]
                if i["source"] == "report" and i["target_id"] == message["id"])
    decided: dict[str, Any] = mod.ok("POST", f"/moderation/items/{item['id']}/decision",
                                     json={"action": "remove_message", "reason": "terrorism"})
    return decided


def test_undoing_an_order_brings_back_only_what_the_order_removed(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.group("Orders", [bob])
    first, second = alice.send(chat["id"], "first"), alice.send(chat["id"], "second")
    authority = make_authority(server, server.sign_up("Authority"))
    mod = staff(server, "Mod")

    def removed(message: dict[str, Any]) -> bool:
        return bool(next(m for m in bob.history(chat["id"]) if m["id"] == message["id"])
                    .get("removed"))

    # A moderator removed it first; an order for it then arrives, is confirmed, withdrawn.
    decision = _remove_on_report(mod, bob, first)
    order = authority.ok("POST", "/orders", json=order_for(first, "REF-1"))
    mod.ok("POST", f"/moderation/orders/{order['id']}/confirm", json={})
    authority.ok("POST", f"/orders/{order['id']}/withdraw")
    assert removed(first)
    statements = {s["id"]: s for s in alice.ok("GET", "/statements")["statements"]}
    assert statements[decision["statement_id"]]["reversed_at"] is None
    assert [s["reversed_at"] is not None for s in statements.values()].count(True) == 1

    # Two orders disable the same message: refusing one leaves the other's removal.
    orders = [authority.ok("POST", "/orders", json=order_for(second, ref))
              for ref in ("REF-2", "REF-3")]
    for order, still in zip(orders, (True, False), strict=True):
        mod.ok("POST", f"/moderation/orders/{order['id']}/refuse",
               json={"reason": "manifest_error"})
        assert removed(second) is still


def test_staff_act_only_on_accounts_below_them_and_never_on_themselves(
        server: LiveServer, alice: Api) -> None:
    mod, other_mod = staff(server, "Mod"), staff(server, "Other Mod")
    operator = staff(server, "Op", "operator")

    def item_for(target_type: str, target_id: int) -> str:
        alice.ok("POST", "/reports", json={"target_type": target_type, "target_id": target_id,
                                           "reason": "spam"})
        found = next(i for i in operator.ok("GET", "/moderation/queue")["items"]
                     if (i["target_type"], i["target_id"]) == (target_type, target_id))
        return f"/moderation/items/{found['id']}/decision"

    ban, dismiss = {"action": "ban_user"}, {"action": "dismiss"}
    suspend = {"action": "suspend_user", "end_date": server.clock.now_ms() + 86_400_000}
    on_operator, on_mod = item_for("user", operator.id), item_for("user", other_mod.id)
    _forbidden(mod, "POST", on_operator, "outranked", json=suspend)
    _forbidden(mod, "POST", on_operator, "outranked", json=ban)
    _forbidden(mod, "POST", on_mod, "outranked", json=ban)
    _forbidden(operator, "POST", on_operator, "own_case", json=dismiss)
    assert operator.ok("GET", "/me")["role"] == "operator"  # nothing happened
    operator.ok("POST", on_mod, json=suspend)  # an operator acts on moderators
    # Nobody decides about their own content; another moderator does.
    post = mod.send(mod.group("Mine", [alice])["id"], "my own post")
    on_post = item_for("message", post["id"])
    _forbidden(mod, "POST", on_post, "own_case", json=dismiss)
    operator.ok("POST", on_post, json=dismiss)


def test_profiles_by_id_respect_blocks_and_cannot_be_walked(database_url: str,
                                                             tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, user_lookups_per_hour=4)
    try:
        alice, bob, carol = (server.sign_up(n) for n in ("Alice", "Bob", "Carol"))
        strangers = [server.sign_up(f"Stranger {n}") for n in range(3)]
        # Someone who blocked you is the same 404 as an id nobody has.
        bob.call("PUT", f"/me/blocked/{alice.id}", expect=204)
        blocked = alice.call("GET", f"/users/{bob.id}", expect=404)
        unknown = alice.call("GET", "/users/999999", expect=404)
        assert blocked.text == unknown.text
        assert bob.ok("GET", f"/users/{alice.id}")["id"] == alice.id
        # Those two counted; people you share a group with cost nothing; walking runs out.
        alice.group("Friends", [carol])
        for _ in range(5):
            assert alice.ok("GET", f"/users/{carol.id}")["id"] == carol.id
        assert alice.ok("GET", f"/users/{strangers[0].id}")["id"] == strangers[0].id
        alice.call("GET", f"/users/{strangers[1].id}", expect=200)
        limited = alice.call("GET", f"/users/{strangers[2].id}", expect=429)
        assert limited.json()["error"]["code"] == "rate_limited"
        assert alice.ok("GET", f"/users/{carol.id}")["id"] == carol.id
        server.clock.advance(3600)
        alice.call("GET", f"/users/{strangers[2].id}", expect=200)
    finally:
        server.thread.stop()


def test_the_bot_api_reports_the_rights_an_admin_holds(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server)
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "Bots",
                                               "member_ids": [bot.id]})
    cid = channel["id"]
    alice.call("PATCH", f"/chats/{cid}/members/{bot.id}", json={"role": "admin"}, expect=204)
    alice.ok("PUT", f"/chats/{cid}/members/{bot.id}/rights", json={"rights": ["write"]})
    me = bot.call("GET", f"/chats/{cid}/members/me")
    # MAX's additions: every admin deletes messages; posting is editing and deleting posts.
    assert (me["is_admin"], me["permissions"]) == (True, ["write", "delete_message",
                                                          "post_edit_delete_message"])
    admins = {m["user_id"]: m["permissions"]
              for m in bot.call("GET", f"/chats/{cid}/members/admins")["members"]}
    assert admins[alice.id] == ["read_all_messages", "add_remove_members", "add_admins",
                                "change_chat_info", "pin_message", "write", "edit_link",
                                "delete_message", "post_edit_delete_message"]
    assert admins[bot.id] == me["permissions"]
    # And what it reports is what holds: no pinning without `pin_message`.
    post = bot.call("POST", "/messages", params={"chat_id": cid}, json={"text": "hi"})
    bot.call("PUT", f"/chats/{cid}/pin", json={"message_id": post["message"]["body"]["mid"]},
             expect=403)


def test_invite_links_are_for_admins_who_may_add_members(alice: Api, bob: Api) -> None:
    group = alice.group("Links", [bob])
    links = f"/chats/{group['id']}/invites"
    invite = alice.ok("POST", links, json={})
    alice.call("PATCH", f"/chats/{group['id']}/members/{bob.id}", json={"role": "admin"},
               expect=204)
    alice.ok("PUT", f"/chats/{group['id']}/members/{bob.id}/rights", json={"rights": ["pin"]})
    _forbidden(bob, "GET", links, "missing_right")
    _forbidden(bob, "DELETE", f"{links}/{invite['id']}", "missing_right")
    assert [i["revoked"] for i in alice.ok("GET", links)["invites"]] == [False]


def test_a_closed_chat_takes_no_reactions_or_button_presses(server: LiveServer, alice: Api,
                                                            bob: Api) -> None:
    bot = make_bot(server)
    group = alice.ok("POST", "/chats", json={"kind": "group", "title": "Closing",
                                             "member_ids": [bob.id, bot.id]})
    keyboard = {"type": "inline_keyboard", "payload": {"buttons": [[
        {"type": "callback", "text": "Vote", "payload": "yes"}]]}}
    bot.call("POST", "/messages", params={"chat_id": group["id"]},
             json={"text": "Vote", "attachments": [keyboard]})
    voted = next(m for m in bob.history(group["id"]) if m.get("keyboard"))
    message = f"/chats/{group['id']}/messages/{voted['id']}"
    bob.ok("POST", f"{message}/callback", json={"payload": "yes"})
    bob.ok("PUT", f"{message}/reactions", json={"emoji": "👍"})
    bob.ok("POST", "/reports", json={"target_type": "chat", "target_id": group["id"],
                                     "reason": "spam"})
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={"action": "close_chat"})
    _forbidden(bob, "POST", f"{message}/callback", "chat_closed", json={"payload": "yes"})
    _forbidden(bob, "PUT", f"{message}/reactions", "chat_closed", json={"emoji": "❤️"})
    _forbidden(bob, "DELETE", f"{message}/reactions", "chat_closed", params={"emoji": "👍"})
