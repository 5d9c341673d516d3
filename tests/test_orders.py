"""Removal orders (Regulation 2021/784): disabled on receipt, the one-hour clock, Annex II
and III, withdrawal; preserved copies; the transparency report."""

from __future__ import annotations

import time

from tests.conftest import LiveServer
from tests.helpers import Api, Socket
from tests.safety_helpers import make_authority, order_for, staff


def live(server: LiveServer, api: Api) -> Socket:
    sock = Socket(server.ws_url, api.token or "", cursor=api.sync()["cursor"])
    assert sock.ready()["type"] == "ready"
    return sock


def test_an_order_removes_the_content_everywhere_within_a_second_and_withdrawal_restores_it(
        server: LiveServer, alice: Api, bob: Api) -> None:
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "News",
                                               "public": True})
    bob.ok("POST", f"/chats/{channel['id']}/join")
    before = bob.sync()["cursor"]
    post = alice.send(channel["id"], "glorifying the attack, do it again")
    watcher = live(server, bob)
    authority = make_authority(server, server.sign_up("Authority"))
    mod, operator = staff(server, "Mod"), staff(server, "Op", "operator")

    started = time.monotonic()
    order = authority.ok("POST", "/orders", json=order_for(post))
    gone = watcher.recv_until(lambda f: f["type"] == "message.deleted", timeout=1)
    assert time.monotonic() - started < 1.0
    assert gone["message"]["removed"] is True
    assert order["state"] == "disabled"
    assert order["action_at"] >= order["received_at"]
    assert order["clock"]["state"] == "running"
    assert 3500 < order["clock"]["seconds_left"] <= 3600
    shown = next(m for m in bob.history(channel["id"]) if m["id"] == post["id"])
    assert shown["removed"] is True
    assert "text" not in shown
    assert "do it again" not in str(bob.sync_all(before)[0])

    confirmed = mod.ok("POST", f"/moderation/orders/{order['id']}/confirm", json={})
    annex_ii = confirmed["response"]
    assert (annex_ii["form"], annex_ii["reference"]) == ("Annex II", "TCO-2026-0001")
    assert annex_ii["time_of_action"] == order["action_at"]
    assert annex_ii["within_one_hour"] is True
    (statement,) = alice.ok("GET", "/statements")["statements"]
    assert statement["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert "TCO-2026-0001" in statement["illegal_content_legal_ground"]
    assert statement["source_type"] == "SOURCE_OTHER_NOTIFICATION"
    # A preserved copy exists, for operators only, and reading it is audited.
    found = operator.ok("GET", "/moderation/preserved",
                        params={"target_type": "message", "target_id": post["id"]})
    copy = operator.ok("GET", f"/moderation/preserved/{found['id']}")
    assert copy["content"]["message"]["text"] == "glorifying the attack, do it again"
    assert mod.call("GET", f"/moderation/preserved/{found['id']}").status_code == 403
    # The authority sees its order and the response; withdrawal brings the post back.
    (mine,) = authority.ok("GET", "/orders")["orders"]
    assert mine["state"] == "executed"
    assert "item" not in authority.ok("GET", f"/orders/{order['id']}")
    authority.ok("POST", f"/orders/{order['id']}/withdraw")
    back = watcher.recv_until(lambda f: f["type"] == "message.restored")["message"]
    assert back["text"] == "glorifying the attack, do it again"
    assert bob.history(channel["id"])[-1]["text"] == "glorifying the attack, do it again"
    assert alice.ok("GET", "/statements")["statements"][0]["reversed_at"] is not None
    watcher.close()


def test_an_order_that_cannot_be_carried_out_gets_annex_iii_and_the_content_back(
        server: LiveServer, alice: Api, bob: Api) -> None:
    message = alice.send(alice.direct(bob)["id"], "a news report quoting a statement")
    authority = make_authority(server, server.sign_up("Authority"))
    order = authority.ok("POST", "/orders", json=order_for(message, "REF-9"))
    assert "removed" in bob.history(message["chat_id"])[-1]
    mod = staff(server, "Mod")
    bad = mod.call("POST", f"/moderation/orders/{order['id']}/refuse",
                   json={"reason": "it is fine"})
    assert bad.status_code == 422
    refused = mod.ok("POST", f"/moderation/orders/{order['id']}/refuse", json={
        "reason": "manifest_error", "explanation": "Journalistic reporting, Art. 1(3)."})
    assert refused["state"] == "not_executed"
    assert refused["response"]["form"] == "Annex III"
    assert refused["response"]["reason"] == "manifest_error"
    assert bob.history(message["chat_id"])[-1]["text"] == "a news report quoting a statement"
    again = mod.call("POST", f"/moderation/orders/{order['id']}/confirm", json={})
    assert again.status_code == 409


def test_orders_by_mail_and_orders_naming_nothing_here(server: LiveServer, alice: Api,
                                                       bob: Api) -> None:
    operator = staff(server, "Op", "operator")
    body = order_for({"chat_id": 1, "id": 1}) | {"location": "https://elsewhere.example/x"}
    order = operator.ok("POST", "/moderation/orders/by-mail", json=body)
    assert (order["channel"], order["state"], order["message_id"]) == ("mail", "received", None)
    confirm = operator.call("POST", f"/moderation/orders/{order['id']}/confirm", json={})
    assert (confirm.status_code, confirm.json()["error"]["code"]) == (409, "no_content")
    refused = operator.ok("POST", f"/moderation/orders/{order['id']}/refuse",
                          json={"reason": "missing_information"})
    assert refused["response"]["reason"] == "missing_information"


def test_the_clock_alerts_staff_once_when_it_runs_low(server: LiveServer, alice: Api,
                                                      bob: Api) -> None:
    message = alice.send(alice.direct(bob)["id"], "x")
    authority = make_authority(server, server.sign_up("Authority"))
    mod = staff(server, "Mod")
    cursor = mod.sync()["cursor"]
    order = authority.ok("POST", "/orders", json=order_for(message))
    orders = server.app.state.services.orders
    assert server.run_async(orders.do_check_clocks()) == []
    server.clock.advance(50 * 60)
    assert mod.ok("GET", f"/orders/{order['id']}")["clock"]["state"] == "low"
    assert server.run_async(orders.do_check_clocks()) == [order["id"]]
    assert server.run_async(orders.do_check_clocks()) == []
    alerts = [e for e in mod.sync_all(cursor)[0] if e["type"] == "moderation.alert"]
    assert [a["alert"]["order_id"] for a in alerts] == [order["id"]]
    assert alerts[0]["alert"]["seconds_left"] <= 600
    server.clock.advance(11 * 60)
    assert mod.ok("GET", f"/orders/{order['id']}")["clock"]["state"] == "overdue"


def test_preserved_copies_are_purged_after_six_months_unless_extended(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    first, second = alice.send(chat["id"], "one"), alice.send(chat["id"], "two")
    authority = make_authority(server, server.sign_up("Authority"))
    operator = staff(server, "Op", "operator")
    for message in (first, second):
        authority.ok("POST", "/orders", json=order_for(message, f"R{message['id']}"))
    copies = [operator.ok("GET", "/moderation/preserved",
                          params={"target_type": "message", "target_id": m["id"]})
              for m in (first, second)]
    operator.ok("POST", f"/moderation/preserved/{copies[1]['id']}/extend", json={"days": 400})
    preservation = server.app.state.services.preservation
    assert server.run_async(preservation.do_purge()) == []
    server.clock.advance(184 * 24 * 3600)
    assert server.run_async(preservation.do_purge()) == [copies[0]["id"]]
    operator = staff(server, "Op", "operator")  # the first one's token expired, unused
    assert operator.call("GET", f"/moderation/preserved/{copies[0]['id']}").status_code == 404
    assert operator.ok("GET", f"/moderation/preserved/{copies[1]['id']}")["id"] == copies[1]["id"]


def test_the_transparency_report_counts_orders_and_renders_safely(
        server: LiveServer, alice: Api, bob: Api) -> None:
    authority = make_authority(server, server.sign_up("Authority"))
    mod = staff(server, "Mod")
    chat = alice.direct(bob)
    kept = authority.ok("POST", "/orders", json=order_for(alice.send(chat["id"], "a"), "A"))
    refused = authority.ok("POST", "/orders", json=order_for(alice.send(chat["id"], "b"), "B"))
    mod.ok("POST", f"/moderation/orders/{kept['id']}/confirm", json={})
    mod.ok("POST", f"/moderation/orders/{refused['id']}/refuse",
           json={"reason": "force_majeure"})
    report = bob.ok("GET", "/transparency")
    assert report["c_removals"]["orders_received"] == 2
    assert report["c_removals"]["orders_by_state"] == {"executed": 1, "not_executed": 1}
    assert report["c_removals"]["orders_not_executed"] == 1
    assert report["c_removals"]["decisions"] == {"remove_message": 1}
    assert report["a_measures"]["items_by_source"] == {"order": 2}
    page = bob.http.get(server.url + "/transparency")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<svg" in page.text
    assert "<script" not in page.text
    assert ">2<" in page.text  # orders received
    assert bob.call("GET", "/transparency", params={"from": "2026-13-01"}).status_code == 400
    past = bob.ok("GET", "/transparency", params={"from": "2020-01-01", "to": "2020-12-31"})
    assert past["c_removals"]["orders_received"] == 0
