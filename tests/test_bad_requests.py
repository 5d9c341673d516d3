"""Bad input gets a 4xx JSON error, never a 500, and leaves nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id


def assert_error(response: httpx.Response, *statuses: int) -> str:
    assert response.status_code in statuses, (response.status_code, response.text)
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    return str(error["code"])


def raw_post(api: Api, path: str, content: bytes | Iterator[bytes]) -> httpx.Response:
    return api.http.post(path, content=content, headers={"content-type": "application/json"})


MALFORMED = [b"", b"{", b'{"text": "unterminated', b"not json at all", b"\xff\xfe\x00",
             b"[1, 2, 3]", b'"just a string"', b"null", b'{"text": "a"} trailing']


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_json_is_refused_and_nothing_is_stored(server: LiveServer, alice: Api,
                                                         bob: Api, body: bytes) -> None:
    chat = alice.direct(bob)
    before = alice.history(chat["id"])
    for path in (f"/chats/{chat['id']}/messages", "/chats", "/auth/sign-in"):
        assert_error(raw_post(alice, path, body), 400, 422)
    assert_error(alice.http.patch("/me", content=body,
                                  headers={"content-type": "application/json"}), 400, 422)
    assert alice.history(chat["id"]) == before
    assert alice.ok("GET", "/me")["display_name"] == "Alice"


WRONG_SENDS: list[dict[str, Any]] = [
    {"client_id": new_client_id(), "text": 42},
    {"client_id": {"nested": True}, "text": "hi"},
    {"client_id": 7, "text": "hi"},
    {"text": "no client id"},
    {"client_id": "", "text": "empty client id"},
    {"client_id": "x" * 65, "text": "client id too long"},
    {"client_id": new_client_id(), "text": "x" * 4097},
    {"client_id": new_client_id(), "text": ""},
    {"client_id": new_client_id(), "text": "   "},
    {"client_id": new_client_id(), "text": "hi", "reply_to": "1"},
    {"client_id": new_client_id(), "text": "hi", "reply_to": 2**64},
    {"client_id": new_client_id(), "text": "hi", "reply_to": -1},
    {"client_id": new_client_id(), "text": "hi", "reply_to": True},
    {"client_id": new_client_id(), "text": "hi", "forward_of": 999_999},
    {"client_id": new_client_id(), "text": "hi", "reply_to": 999_999},
]


@pytest.mark.parametrize("body", WRONG_SENDS)
def test_wrong_types_and_limits_on_send(server: LiveServer, alice: Api, bob: Api,
                                        body: dict[str, Any]) -> None:
    chat = alice.direct(bob)
    before = alice.history(chat["id"])
    response = alice.call("POST", f"/chats/{chat['id']}/messages", json=body)
    assert_error(response, 400, 404, 422)
    assert alice.history(chat["id"]) == before
    # The same client id still works once the body is right: a refusal reserves nothing.
    if isinstance(body.get("client_id"), str) and 0 < len(body["client_id"]) <= 64:
        sent = alice.ok("POST", f"/chats/{chat['id']}/messages",
                        json={"client_id": body["client_id"], "text": "fixed"})
        assert sent["text"] == "fixed"


WRONG_CHATS: list[dict[str, Any]] = [
    {"kind": "group", "title": "t", "member_ids": ["1", "2"]},
    {"kind": "group", "title": "t", "member_ids": [2**64]},
    {"kind": "group", "title": 5},
    {"kind": "group", "title": ""},
    {"kind": "direct"},
    {"kind": "direct", "user_id": 999_999},
    {"kind": "direct", "user_id": -3},
    {"kind": "galaxy", "title": "t"},
    {"kind": "group", "title": "t", "member_ids": 3},
    {"kind": "channel", "title": "x" * 129},
]


@pytest.mark.parametrize("body", WRONG_CHATS)
def test_wrong_chat_bodies(server: LiveServer, alice: Api, body: dict[str, Any]) -> None:
    assert_error(alice.call("POST", "/chats", json=body), 400, 404, 422)
    assert alice.ok("GET", "/chats")["chats"] == []


def test_wrong_profile_bodies_change_nothing(server: LiveServer, alice: Api) -> None:
    before = alice.ok("GET", "/me")
    for body in ({"display_name": 5}, {"username": "no spaces allowed"}, {"kind": "alien"},
                 {"about": "x" * 513}, {"display_name": "x" * 65},
                 {"display_name": "ok", "username": "-bad-"}):
        assert_error(alice.call("PATCH", "/me", json=body), 400, 409, 422)
    assert alice.ok("GET", "/me") == before


def test_oversized_bodies_get_413_with_or_without_a_length(server: LiveServer, alice: Api,
                                                           bob: Api) -> None:
    chat = alice.direct(bob)
    limit = server.settings.max_body_bytes
    big = orjson.dumps({"client_id": new_client_id(), "text": "x" * (limit + 10)})
    path = f"/chats/{chat['id']}/messages"
    assert assert_error(raw_post(alice, path, big), 413) == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for start in range(0, len(big), 65_536):
            yield big[start:start + 65_536]

    assert assert_error(raw_post(alice, path, chunks()), 413) == "body_too_large"
    assert alice.history(chat["id"]) == []
    assert alice.send(chat["id"], "still fine")["text"] == "still fine"


def test_unknown_ids_are_404(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    missing = 2**62
    for method, path in (("GET", f"/chats/{missing}"),
                         ("GET", f"/chats/{missing}/messages"),
                         ("GET", f"/users/{missing}"),
                         ("DELETE", f"/devices/{missing}"),
                         ("PATCH", f"/chats/{chat['id']}/messages/{missing}"),
                         ("DELETE", f"/chats/{chat['id']}/messages/{missing}")):
        body = {"text": "x"} if method == "PATCH" else None
        assert_error(alice.call(method, path, json=body), 404)


def test_bad_path_and_query_values(server: LiveServer, alice: Api) -> None:
    for path in ("/chats/abc", "/chats/0", "/chats/-1", f"/chats/{2**64}/messages",
                 "/chats/1/messages?limit=0", "/chats/1/messages?limit=abc",
                 "/sync?timeout=-1", "/sync?timeout=1e9", "/sync?cursor=not-a-cursor"):
        assert_error(alice.call("GET", path), 400, 404, 422)


def test_unknown_routes_and_methods(server: LiveServer, alice: Api) -> None:
    assert assert_error(alice.call("GET", "/no/such/thing"), 404)
    assert assert_error(alice.call("DELETE", "/me"), 405) == "method_not_allowed"
    assert assert_error(alice.call("PUT", "/chats"), 405) == "method_not_allowed"


def test_missing_or_bad_tokens_are_401(server: LiveServer) -> None:
    for headers in ({}, {"authorization": "Bearer"}, {"authorization": "Bearer dk_nope"},
                    {"authorization": "Basic dXNlcjpwYXNz"},
                    {"authorization": "Bearer " + "x" * 5000}):
        response = httpx.get(server.url + "/api/v1/me", headers=headers, timeout=10)
        assert_error(response, 401)


# -- the socket ----------------------------------------------------------------------------

def close_code(recv: Any) -> int:
    """Read until the server closes; the close code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        _read_forever(recv)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def _read_forever(recv: Any) -> None:
    while True:
        recv()


def test_socket_garbage_before_auth_closes_with_4400(server: LiveServer) -> None:
    for first in ("not json", "[1,2]", '{"type": "send"}', '{"type": "auth"}'):
        with connect(server.ws_url) as ws:
            ws.send(first)
            assert close_code(lambda: ws.recv(timeout=5)) in (4400, 4401), first


def test_socket_bad_frames_after_auth_get_error_frames(server: LiveServer, alice: Api,
                                                       bob: Api) -> None:
    chat = alice.direct(bob)
    sock = Socket(server.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
    sock.ready()
    def send(**fields: Any) -> str:
        return orjson.dumps({"type": "send", "id": 1, "chat_id": chat["id"],
                             "client_id": "c", "text": "t", **fields}).decode()

    cases = [("not json", "malformed_json"), ("[1]", "malformed_frame"),
             ('{"type": "dance"}', "unknown_type"),
             (send(chat_id="x"), None), (send(client_id=5), None),
             (send(text="x" * 4097), None), (send(chat_id=2**62), None),
             ('{"type": "typing", "chat_id": 999999}', "chat_not_found")]
    for raw, code in cases:
        sock.ws.send(raw)
        frame = sock.recv_until(lambda f: f["type"] == "error")
        if code is not None:
            assert frame["error"]["code"] == code, raw
    sock.ws.send(b"\x00\x01binary garbage")
    assert sock.recv_until(lambda f: f["type"] == "error")["error"]["code"] == "malformed_json"
    assert alice.history(chat["id"]) == []
    sock.send_json({"type": "ping"})
    assert sock.recv_until(lambda f: f["type"] == "pong")
    sock.close()


def test_socket_frame_over_the_limit_closes_with_1009(server: LiveServer, alice: Api) -> None:
    sock = Socket(server.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
    sock.ready()
    sock.ws.send("x" * 70_000)
    assert close_code(sock.recv) == 1009
    assert alice.ok("GET", "/me")["id"] == alice.id  # the server is fine


# -- anything at all -----------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                  max_size=4),
    max_leaves=12)
FIELDS = st.sampled_from(["client_id", "text", "reply_to", "forward_of", "kind", "title",
                          "member_ids", "user_id", "display_name", "username", "about"])
BODIES = JSON_VALUES | st.dictionaries(FIELDS, JSON_VALUES, max_size=5)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, route=st.sampled_from(["send", "chats", "me"]))
def test_no_body_makes_a_500(server: LiveServer, alice: Api, bob: Api, body: Any,
                             route: str) -> None:
    chat_id = alice.direct(bob)["id"]
    method, path = {"send": ("POST", f"/chats/{chat_id}/messages"),
                    "chats": ("POST", "/chats"), "me": ("PATCH", "/me")}[route]
    response = alice.call(method, path, content=json.dumps(body).encode(),
                          headers={"content-type": "application/json"})
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert_error(response, response.status_code)
