"""Web Push, end to end on loopback: a push service of the test's own receives each push,
checks its VAPID token against the server's public key and decrypts it with the
subscription's private key, which the test made (as a browser would)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from darbuka.services.push import PUSH_JOB
from darbuka.services.webpush import MAX_BODY
from tests.conftest import LiveServer, make_server
from tests.helpers import Api, Socket, new_client_id, wait_until
from tests.push_helpers import Browser, PushService, check_vapid, push_service


@pytest.fixture
def pushes() -> Iterator[PushService]:
    with push_service() as service:
        yield service


@pytest.fixture
def push_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = make_server(database_url, tmp_path, push_allow_private=True)
    yield srv
    srv.thread.stop()


def _idle(server: LiveServer) -> None:
    """Every push job queued so far has run."""
    server.run_async(server.app.state.jobs.idle(PUSH_JOB))


def _subscribe(api: Api, pushes: PushService, path: str, **extra: Any) -> Browser:
    browser = Browser(pushes.url + path)
    api.ok("POST", "/push/subscriptions", json=browser.subscription(**extra))
    return browser


def _pair(server: LiveServer) -> tuple[Api, Api, dict[str, Any]]:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    return alice, bob, alice.direct(bob)


def test_a_message_reaches_the_push_service_signed_and_encrypted(
        push_server: LiveServer, pushes: PushService) -> None:
    alice, bob, chat = _pair(push_server)
    key = bob.ok("GET", "/push/key")["public_key"]
    browser = _subscribe(bob, pushes, "/bob")
    alice.send(chat["id"], "Dinner at eight?")
    (push,) = wait_until(lambda: pushes.to("/bob"), message="a push")
    claims = check_vapid(push, key, browser.endpoint)
    assert claims["sub"].startswith("mailto:")
    assert push.headers["ttl"] == "86400"
    assert push.headers["urgency"] == "high"
    assert push.headers["topic"] == f"chat{chat['id']}"
    assert len(push.body) <= MAX_BODY
    assert browser.decrypt(push) == {
        "type": "message", "chat_id": chat["id"], "title": "Alice", "sender": "Alice",
        "preview": "Dinner at eight?", "unread": 1, "seq": 1}
    # Alice sent it: nothing goes to her (she has no subscription), nor to Bob twice.
    _idle(push_server)
    assert len(pushes.to("/bob")) == 1


def test_a_long_message_is_cut_to_fit_one_small_push(push_server: LiveServer,
                                                     pushes: PushService) -> None:
    alice, bob, _ = _pair(push_server)
    group = alice.group("Ünïcödé " * 10, [bob])
    browser = _subscribe(bob, pushes, "/bob")
    alice.send(group["id"], "ж" * 4000)
    (push,) = wait_until(lambda: pushes.to("/bob"), message="a push")
    assert len(push.body) <= MAX_BODY
    body = browser.decrypt(push)
    assert body["title"] == group["title"]
    assert 0 < len(body["preview"]) <= 200
    assert set(body["preview"]) == {"ж"}


def test_a_burst_in_one_chat_is_one_notification_updated(push_server: LiveServer,
                                                         pushes: PushService) -> None:
    alice, bob, chat = _pair(push_server)
    browser = _subscribe(bob, pushes, "/bob")
    sender = Socket(push_server.ws_url, alice.token or "")
    sender.ready()
    for n in range(50):
        sender.send_json({"type": "send", "id": n, "chat_id": chat["id"],
                          "client_id": new_client_id(), "text": f"line {n}"})
    for _ in range(50):
        sender.recv_until(lambda f: f["type"] == "ack")
    sender.close()
    _idle(push_server)
    received = pushes.to("/bob")
    assert 1 <= len(received) <= 2
    last = browser.decrypt(received[-1])
    assert (last["unread"], last["preview"]) == (50, "line 49")
    assert {r.headers["topic"] for r in received} == {f"chat{chat['id']}"}


def test_previews_off_say_new_message(push_server: LiveServer, pushes: PushService) -> None:
    alice, bob, chat = _pair(push_server)
    browser = _subscribe(bob, pushes, "/bob", previews=False)
    alice.send(chat["id"], "the secret plan")
    (push,) = wait_until(lambda: pushes.to("/bob"), message="a push")
    assert browser.decrypt(push)["preview"] == "New message"
    assert b"secret" not in push.body


def test_muted_chats_are_quiet_unless_a_let_through_mention(
        push_server: LiveServer, pushes: PushService) -> None:
    alice, bob, _ = _pair(push_server)
    bob.ok("PATCH", "/me", json={"username": "bobby"})
    group = alice.group("Team", [bob])
    browser = _subscribe(bob, pushes, "/bob")
    # Bob mutes the group (until turned off), mentions not let through.
    bob.ok("PUT", f"/chats/{group['id']}/mute", json={"for_s": None, "mentions": False})
    alice.send(group["id"], "hello @bobby")
    _idle(push_server)
    assert pushes.to("/bob") == []  # muted, mentions not let through
    bob.ok("PUT", f"/chats/{group['id']}/mute", json={"for_s": None, "mentions": True})
    last = alice.send(group["id"], "just chatting")
    _idle(push_server)
    (push,) = wait_until(lambda: pushes.to("/bob"), message="the mention's push")
    # The mention is among the unread (with the group's first system message).
    assert browser.decrypt(push)["unread"] == last["seq"]
    bob.ok("POST", f"/chats/{group['id']}/read", json={"seq": last["seq"]})
    _idle(push_server)
    pushes.received.clear()
    alice.send(group["id"], "no names here")
    _idle(push_server)
    assert pushes.to("/bob") == []  # close pushes aside, nothing for an unmentioning message


def test_a_gone_subscription_is_deleted_and_a_failing_one_retried(
        push_server: LiveServer, pushes: PushService) -> None:
    alice, bob, chat = _pair(push_server)
    pushes.statuses["/gone"] = [410]
    pushes.statuses["/flaky"] = [503]
    _subscribe(bob, pushes, "/gone")
    flaky = _subscribe(bob, pushes, "/flaky")
    alice.send(chat["id"], "anyone?")
    wait_until(lambda: len(pushes.to("/flaky")) == 2, timeout=15, message="a retry")
    assert flaky.decrypt(pushes.to("/flaky")[-1])["preview"] == "anyone?"
    endpoints = [s["endpoint"] for s in bob.ok("GET", "/push/subscriptions")["subscriptions"]]
    assert endpoints == [flaky.endpoint]
    assert len(pushes.to("/gone")) == 1  # never again after its 410


def test_no_push_while_a_socket_is_live(push_server: LiveServer, pushes: PushService) -> None:
    alice, bob, chat = _pair(push_server)
    browser = _subscribe(bob, pushes, "/bob")
    socket = Socket(push_server.ws_url, bob.token or "")
    socket.ready()
    alice.send(chat["id"], "you are here")
    socket.recv_until(lambda f: f["type"] == "message.new")
    _idle(push_server)
    assert pushes.to("/bob") == []
    socket.close()
    wait_until(lambda: not push_server.run_async(
        push_server.app.state.runtime.presence.online([bob.id])), message="bob offline")
    alice.send(chat["id"], "and now you are away")
    (push,) = wait_until(lambda: pushes.to("/bob"), message="a push")
    assert browser.decrypt(push)["unread"] == 2


def test_a_read_on_another_device_closes_the_notification(push_server: LiveServer,
                                                          pushes: PushService) -> None:
    alice, bob, chat = _pair(push_server)
    browser = _subscribe(bob, pushes, "/bob")
    alice.send(chat["id"], "ping")
    wait_until(lambda: pushes.to("/bob"), message="a push")
    bob.ok("POST", f"/chats/{chat['id']}/read", json={"seq": 1})
    wait_until(lambda: len(pushes.to("/bob")) == 2, message="the closing push")
    close = pushes.to("/bob")[-1]
    assert browser.decrypt(close) == {"type": "close", "chat_id": chat["id"]}
    assert close.headers["topic"] == f"chat{chat['id']}"
    # Read again (nothing new): no second close.
    alice.send(chat["id"], "pong")
    # The next notification waits out the interval since the last one.
    wait_until(lambda: len(pushes.to("/bob")) == 3, timeout=10, message="the next push")
    bob.ok("POST", f"/chats/{chat['id']}/read", json={"seq": 2})
    wait_until(lambda: len(pushes.to("/bob")) == 4, message="its closing push")
    bob.ok("POST", f"/chats/{chat['id']}/read", json={"seq": 2})
    _idle(push_server)
    assert len(pushes.to("/bob")) == 4


def test_revoking_the_device_removes_its_subscriptions(push_server: LiveServer,
                                                       pushes: PushService) -> None:
    alice, bob, chat = _pair(push_server)
    laptop = push_server.sign_up(phone=bob.user["phone"])
    _subscribe(laptop, pushes, "/laptop")
    phone_browser = _subscribe(bob, pushes, "/phone")
    assert [s["endpoint"] for s in laptop.ok("GET", "/push/subscriptions")[
        "subscriptions"]] == [pushes.url + "/laptop"]
    devices = bob.ok("GET", "/devices")["devices"]
    (other,) = [d for d in devices if not d["current"]]
    bob.call("DELETE", f"/devices/{other['id']}", expect=204)
    alice.send(chat["id"], "still there?")
    wait_until(lambda: pushes.to("/phone"), message="the phone's push")
    _idle(push_server)
    assert pushes.to("/laptop") == []
    assert phone_browser.decrypt(pushes.to("/phone")[0])["preview"] == "still there?"


def test_endpoints_must_be_https_on_a_public_address(server: LiveServer) -> None:
    strict = server.sign_up("Strict")
    browser = Browser("https://127.0.0.1/push")
    for endpoint in ("https://127.0.0.1/push", "https://10.1.2.3/push",
                     "http://push.example.com/x", "ftp://x/y", "not a url"):
        response = strict.call("POST", "/push/subscriptions",
                               json={**browser.subscription(), "endpoint": endpoint},
                               expect=400)
        assert response.json()["error"]["code"] == "invalid_endpoint"


def test_subscriptions_are_checked(push_server: LiveServer, pushes: PushService) -> None:
    bob, carol = push_server.sign_up("Bob"), push_server.sign_up("Carol")
    good = Browser(pushes.url + "/bob").subscription()
    for keys in ({"p256dh": "AAAA", "auth": good["keys"]["auth"]},
                 {"p256dh": good["keys"]["p256dh"], "auth": "c2hvcnQ"}):
        response = bob.call("POST", "/push/subscriptions", json={**good, "keys": keys},
                            expect=400)
        assert response.json()["error"]["code"] == "invalid_keys"
    bob.call("POST", "/push/subscriptions", json={"endpoint": good["endpoint"]}, expect=422)
    bob.call("POST", "/push/subscriptions", json={**good, "previews": "no"}, expect=422)
    bob.call("POST", "/push/subscriptions", json=good, expect=201)
    # Someone else's endpoint cannot be removed by you; your own can, once.
    for who, status in ((carol, 404), (bob, 204), (bob, 404)):
        who.call("DELETE", "/push/subscriptions", json={"endpoint": good["endpoint"]},
                 expect=status)
    assert len(bob.ok("GET", "/push/key")["public_key"]) == 87  # 65 bytes, base64url


def test_a_reaction_to_your_message_is_pushed_to_you(push_server: LiveServer,
                                                     pushes: PushService) -> None:
    alice, bob, chat = _pair(push_server)
    browser = _subscribe(bob, pushes, "/bob")
    message = bob.send(chat["id"], "my news")
    alice.call("PUT", f"/chats/{chat['id']}/messages/{message['id']}/reactions",
               json={"emoji": "🎉"}, expect=200)
    (push,) = wait_until(lambda: pushes.to("/bob"), message="the reaction's push")
    assert browser.decrypt(push) == {
        "type": "message", "chat_id": chat["id"], "title": "Alice", "sender": "Alice",
        "preview": "🎉", "unread": 0, "seq": message["seq"], "reaction": True}
    # Bob's own reaction to his message tells nobody.
    bob.call("PUT", f"/chats/{chat['id']}/messages/{message['id']}/reactions",
             json={"emoji": "👍"}, expect=200)
    _idle(push_server)
    assert len(pushes.to("/bob")) == 1


def test_a_join_request_calls_the_admins_who_are_away(push_server: LiveServer,
                                                      pushes: PushService) -> None:
    """A call to action: someone asks to join a group that needs approval, and its admin,
    with no socket open, is told by push who asks (and the person asking is not)."""
    alice, bob = push_server.sign_up("Alice"), push_server.sign_up("Bob")
    chat = alice.group("Ask first", [], handle="ask_first")
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"join_approval": True})
    admin = _subscribe(alice, pushes, "/alice")
    _subscribe(bob, pushes, "/bob")
    bob.ok("POST", f"/chats/{chat['id']}/join")
    (push,) = wait_until(lambda: pushes.to("/alice"), message="the join request's push")
    body = admin.decrypt(push)
    assert (body["title"], body["sender"], body["preview"], body["action"]) == (
        "Ask first", "Bob", "asks to join", "join_request")
    assert push.headers["urgency"] == "high"
    # Asking again is the same request: nobody is called twice.
    bob.ok("POST", f"/chats/{chat['id']}/join")
    _idle(push_server)
    assert len(pushes.to("/alice")) == 1
    assert pushes.to("/bob") == []
