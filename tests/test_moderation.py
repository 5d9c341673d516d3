"""Reports, the queue and moderators' decisions, through the API on a live server."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id
from tests.safety_helpers import make_authority, order_for, staff


def live(server: LiveServer, api: Api) -> Socket:
    sock = Socket(server.ws_url, api.token or "", cursor=api.sync()["cursor"])
    assert sock.ready()["type"] == "ready"
    return sock


def test_a_report_goes_to_the_queue_and_a_removal_reaches_everyone(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    group = alice.group("Town square", [bob, carol])
    before = carol.sync()["cursor"]
    bad = alice.send(group["id"], "join us and attack the parade")
    report = bob.ok("POST", "/reports", json={"target_type": "message", "target_id": bad["id"],
                                              "reason": "terrorism", "note": "a call to attack"})
    assert report["outcome"] is None
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    assert (item["source"], item["target_id"], item["report_count"]) == ("report", bad["id"], 1)
    assert item["context"]["message"]["text"] == "join us and attack the parade"
    assert item["context"]["sender"]["id"] == alice.id
    watcher = live(server, carol)

    decision = mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={
        "action": "remove_message", "ground": "terms", "reason": "terrorism",
        "clause": "Terms 4.2: violent extremism", "facts": "Calls for an attack."})

    gone = watcher.recv_until(lambda f: f["type"] == "message.deleted")["message"]
    assert gone == {**gone, "id": bad["id"], "deleted": True, "removed": True}
    assert "text" not in gone
    assert next(m for m in carol.history(group["id"]) if m["id"] == bad["id"])["removed"]
    # Catch-up from before the message no longer carries its text either.
    events, _ = carol.sync_all(before)
    assert "attack the parade" not in str(events)
    # The author has a statement of reasons with the Transparency Database's fields.
    (statement,) = alice.ok("GET", "/statements")["statements"]
    assert statement["id"] == decision["statement_id"]
    assert statement["decision_visibility"] == "DECISION_VISIBILITY_CONTENT_REMOVED"
    assert statement["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert statement["incompatible_content_ground"] == "Terms 4.2: violent extremism"
    assert statement["category_specification"] == ["KEYWORD_TERRORIST_CONTENT"]
    assert statement["source_type"] == "SOURCE_ARTICLE_16"
    assert (statement["automated_detection"], statement["automated_decision"]) == (
        "No", "AUTOMATED_DECISION_NOT_AUTOMATED")
    assert "appeal" in statement["redress"].lower()
    assert "DE" in statement["territorial_scope"]
    # The reporter learns the outcome.
    assert bob.ok("GET", "/reports")["reports"][0]["outcome"] == "action_taken"
    assert any(e["type"] == "report.resolved" and e["report"]["outcome"] == "action_taken"
               for e in bob.sync_all(before)[0])
    watcher.close()


def test_reports_of_one_target_share_an_item_and_trusted_referrals_go_first(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    group = alice.group("G", [bob, carol])
    spam = alice.send(group["id"], "buy now")
    worse = alice.send(group["id"], "something worse")
    for reporter in (bob, carol):
        reporter.ok("POST", "/reports", json={"target_type": "message", "target_id": spam["id"],
                                              "reason": "spam"})
    flagger = make_authority(server, carol, trusted=True)
    flagger.ok("POST", "/reports", json={"target_type": "message", "target_id": worse["id"],
                                         "reason": "violence"})
    mod = staff(server, "Mod")
    items = mod.ok("GET", "/moderation/queue")["items"]
    assert [(i["target_id"], i["source"]) for i in items] == [
        (worse["id"], "referral"), (spam["id"], "report")]
    assert items[1]["report_count"] == 2
    # An order outranks both.
    authority = make_authority(server, server.sign_up("Authority"))
    bob_message = bob.send(group["id"], "ordered away")
    authority.ok("POST", "/orders", json=order_for(bob_message))
    first = mod.ok("GET", "/moderation/queue")["items"][0]
    assert (first["source"], first["priority"]) == ("order", 0)
    assert first["clock"]["state"] == "running"


def test_only_what_you_can_see_can_be_reported(server: LiveServer, alice: Api, bob: Api,
                                               carol: Api) -> None:
    secret = alice.send(alice.group("Private", [bob])["id"], "members only")
    response = carol.call("POST", "/reports", json={
        "target_type": "message", "target_id": secret["id"], "reason": "spam"})
    assert response.status_code == 404
    for body in ({"target_type": "message", "target_id": secret["id"], "reason": "boredom"},
                 {"target_type": "planet", "target_id": 1, "reason": "spam"},
                 {"target_type": "user", "target_id": "1", "reason": "spam"},
                 {"target_type": "user", "target_id": 1, "reason": "spam", "note": "x" * 1001}):
        assert carol.call("POST", "/reports", json=body).status_code == 422, body
    assert carol.call("POST", "/reports", json={"target_type": "user", "target_id": 2**62,
                                                "reason": "spam"}).status_code == 404


def test_suspension_cuts_the_socket_keeps_the_appeal_routes_and_lapses(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    bob.ok("POST", "/reports", json={"target_type": "user", "target_id": alice.id,
                                     "reason": "hate"})
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    sock = live(server, alice)
    end = server.clock.now_ms() + 3 * 24 * 3600 * 1000
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={
        "action": "suspend_user", "reason": "hate", "facts": "Repeated slurs.",
        "end_date": end})
    frame = sock.recv_until(lambda f: f["type"] == "account.restricted")
    assert (frame["status"], frame["until"]) == ("suspended", end)
    with pytest.raises(ConnectionClosed) as closed:
        sock.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    blocked = alice.call("POST", f"/chats/{chat['id']}/messages",
                         json={"client_id": new_client_id(), "text": "hi"})
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (403, "account_suspended")
    (statement,) = alice.ok("GET", "/statements")["statements"]
    assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert statement["end_date_account_restriction"] is not None
    server.clock.advance(3 * 24 * 3600 + 1)
    alice.send(chat["id"], "back again")


def test_a_closed_chat_takes_no_posts_and_no_joins(server: LiveServer, alice: Api, bob: Api,
                                                   carol: Api) -> None:
    group = alice.group("Recruiting", [bob], public=True)
    carol.ok("POST", "/reports", json={"target_type": "chat", "target_id": group["id"],
                                       "reason": "terrorism"})
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={
        "action": "close_chat", "ground": "illegal", "reason": "terrorism",
        "legal_ground": "Directive (EU) 2017/541, Art. 5", "facts": "Recruitment channel."})
    response = bob.call("POST", f"/chats/{group['id']}/messages",
                        json={"client_id": new_client_id(), "text": "still here?"})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "chat_closed")
    assert carol.call("POST", f"/chats/{group['id']}/join").status_code == 404
    assert bob.ok("GET", f"/chats/{group['id']}")["closed"] is True
    (statement,) = alice.ok("GET", "/statements")["statements"]
    assert statement["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert statement["illegal_content_legal_ground"] == "Directive (EU) 2017/541, Art. 5"


def test_dismissing_tells_the_reporter_and_leaves_the_content(
        server: LiveServer, alice: Api, bob: Api) -> None:
    message = alice.send(alice.direct(bob)["id"], "a strong opinion")
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": message["id"],
                                     "reason": "hate"})
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={"action": "dismiss"})
    assert bob.ok("GET", "/reports")["reports"][0]["outcome"] == "no_action"
    assert alice.history(message["chat_id"])[-1]["text"] == "a strong opinion"
    again = mod.call("POST", f"/moderation/items/{item['id']}/decision",
                     json={"action": "dismiss"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_decided")


def test_appeal_is_decided_by_another_moderator_and_reinstates_everywhere(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    message = alice.send(chat["id"], "a documentary clip about the war")
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": message["id"],
                                     "reason": "violence"})
    first, second = staff(server, "First"), staff(server, "Second")
    (item,) = first.ok("GET", "/moderation/queue")["items"]
    decision = first.ok("POST", f"/moderation/items/{item['id']}/decision",
                        json={"action": "remove_message", "reason": "violence"})
    appeal = alice.ok("POST", "/appeals", json={"statement_id": decision["statement_id"],
                                                "text": "It is journalism (Art. 1(3))."})
    assert bob.call("POST", "/appeals", json={"statement_id": decision["statement_id"],
                                              "text": "me too"}).status_code == 404
    watcher = live(server, bob)
    own = first.call("POST", f"/moderation/appeals/{appeal['id']}/decision",
                     json={"outcome": "reversed"})
    assert (own.status_code, own.json()["error"]["code"]) == (403, "same_moderator")
    (listed,) = second.ok("GET", "/moderation/appeals")["appeals"]
    assert listed["statement"]["id"] == decision["statement_id"]
    second.ok("POST", f"/moderation/appeals/{appeal['id']}/decision",
              json={"outcome": "reversed", "reply": "Newsworthy; restored."})
    restored = watcher.recv_until(lambda f: f["type"] == "message.restored")["message"]
    assert restored["text"] == "a documentary clip about the war"
    assert bob.history(chat["id"])[-1]["text"] == "a documentary clip about the war"
    assert alice.ok("GET", "/appeals")["appeals"][0]["status"] == "reversed"
    assert alice.ok("GET", "/statements")["statements"][0]["reversed_at"] is not None
    report = server.sign_up("Reader").ok("GET", "/transparency")
    assert report["g_reinstated_after_complaint"] == 1
    assert report["d_complaints"]["by_outcome"] == {"reversed": 1}
    watcher.close()
