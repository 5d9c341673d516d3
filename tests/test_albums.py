"""Albums: several photos and videos sent as one message with one caption (`media_ids`).
A one-media message is unchanged on the wire; an album's `media` is its first item, so a
client that knows no albums shows a photo message."""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id
from tests.media_helpers import jpeg, upload_ready


def _photos(api: Api, n: int) -> list[str]:
    return [upload_ready(api, jpeg(64 + i, 48), kind="photo", filename=f"{i}.jpg")["id"]
            for i in range(n)]


def test_an_album_is_one_message_that_every_member_may_download(alice: Api, bob: Api,
                                                                 carol: Api) -> None:
    chat = alice.group("Trip", [bob])
    ids = _photos(alice, 3)
    message = alice.send(chat["id"], "the view", media_ids=ids)
    assert message["kind"] == "photo"
    assert message["text"] == "the view"
    assert [m["id"] for m in message["album"]] == ids
    assert message["media"]["id"] == ids[0]
    assert "album" not in message["media"]
    assert all(m["kind"] == "photo" and "variants" in m for m in message["album"])

    stored = bob.history(chat["id"])[-1]
    assert [m["id"] for m in stored["album"]] == ids
    for media_id in ids:  # every item is the chat's now: members fetch, outsiders don't
        assert bob.call("GET", f"/media/{media_id}/original").status_code == 200
        assert carol.call("GET", f"/media/{media_id}/original").status_code in (403, 404)


def test_one_media_messages_are_as_they_were(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    [photo] = _photos(alice, 1)
    message = alice.send(chat["id"], "", media_id=photo, kind="photo")
    assert "album" not in message
    assert message["media"]["id"] == photo


def test_album_sends_are_checked(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    ids = _photos(alice, 2)
    text_file = upload_ready(alice, b"hello", kind="file", filename="a.txt")["id"]
    [bobs] = _photos(bob, 1)
    cases = [
        ({"media_ids": ids[:1]}, 422),  # one is not an album
        ({"media_ids": [ids[0], ids[0]]}, 400),  # the same twice
        ({"media_ids": ids, "media_id": ids[0]}, 400),
        ({"media_ids": ids, "kind": "photo"}, 400),
        ({"media_ids": [ids[0], text_file]}, 400),  # photos and videos only
        ({"media_ids": [ids[0], bobs]}, 404),  # someone else's upload
        ({"media_ids": ids, "text": "x" * 1025}, 400),  # a caption's limit
    ]
    for extra, status in cases:
        body = {"client_id": new_client_id(), "text": "", **extra}
        response = alice.call("POST", f"/chats/{chat['id']}/messages", json=body)
        assert response.status_code == status, (extra, response.text)


def test_an_album_over_the_socket_is_acked_and_reaches_the_others(server: LiveServer,
                                                                  alice: Api,
                                                                  bob: Api) -> None:
    chat = alice.direct(bob)
    ids = _photos(alice, 2)
    a, b = Socket(server.ws_url, alice.token), Socket(server.ws_url, bob.token)
    try:
        a.ready()
        b.ready()
        a.send_json({"type": "send", "id": 1, "chat_id": chat["id"],
                     "client_id": new_client_id(), "text": "two", "media_ids": ids})
        ack = a.recv_until(lambda f: f["type"] == "ack", timeout=30)
        assert [m["id"] for m in ack["message"]["album"]] == ids
        event = b.recv_until(lambda f: f["type"] == "message.new", timeout=30)
        assert [m["id"] for m in event["message"]["album"]] == ids
    finally:
        a.close()
        b.close()
