"""Input that is not what it looks like: invisible and direction-changing characters in
names, NUL anywhere, and answers a browser could sniff into something else."""

from __future__ import annotations

import re

import httpx
import orjson

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id

RLO, ZWSP, LRI, PDI, BOM = "\u202e", "\u200b", "\u2066", "\u2069", "\ufeff"


def test_names_lose_invisible_and_direction_changing_characters(server: LiveServer,
                                                                alice: Api) -> None:
    # "Support" with a zero-width space and a BOM inside: it must not pass for "Support".
    me = alice.ok("PATCH", "/me", json={"display_name": f"Sup{ZWSP}port{BOM}"})
    assert me["display_name"] == "Support"
    # An override that shows "gnp.exe" as "exe.png" is taken out of a chat's title.
    chat = alice.ok("POST", "/chats", json={"kind": "group", "title": f"photo{RLO}gnp.exe"})
    assert chat["title"] == "photognp.exe"
    renamed = alice.ok("PATCH", f"/chats/{chat['id']}", json={"title": f"{LRI}News{PDI}"})
    assert renamed["title"] == "News"
    # A title of nothing but invisible characters is no title.
    alice.call("POST", "/chats", json={"kind": "group", "title": f"{ZWSP}{RLO}"}, expect=400)
    pack = alice.ok("POST", "/sticker-packs", json={"title": f"Cats{ZWSP}"})
    assert pack["title"] == "Cats"
    bot = make_bot(server, f"Help{RLO}desk")
    assert bot.user["display_name"] == "Helpdesk"


def test_names_keep_what_their_scripts_need() -> None:
    from darbuka.services.text import clean_name

    # Persian keeps its zero-width non-joiner between letters; an emoji family its joiners.
    assert clean_name("می\u200cروم") == "می\u200cروم"
    family = "\U0001f469\u200d\U0001f467"
    assert clean_name(f"Mum {family}") == f"Mum {family}"
    # Between Latin letters the same characters would only hide a difference.
    assert clean_name("Al\u200cice") == "Alice"
    assert clean_name("Al\u200dice") == "Alice"
    assert clean_name("  two\t\tspaces \n ") == "two spaces"


def test_message_text_keeps_marks_but_never_nul(server: LiveServer, alice: Api,
                                                bob: Api) -> None:
    chat = alice.direct(bob)
    # Right-to-left writers use direction marks: message text keeps them as typed.
    kept = alice.send(chat["id"], f"{LRI}+44 7700 900123{PDI} اتصل")
    assert kept["text"] == f"{LRI}+44 7700 900123{PDI} اتصل"
    for text in ("a\x00b", "\x00"):
        error = alice.call("POST", f"/chats/{chat['id']}/messages",
                           json={"client_id": new_client_id(), "text": text}).json()
        assert error["error"]["code"] in ("invalid_text", "invalid_request"), error
    sock = Socket(server.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
    try:
        sock.ready()
        sock.send_json({"type": "send", "id": 7, "chat_id": chat["id"],
                        "client_id": new_client_id(), "text": "x\x00y"})
        frame = sock.recv_until(lambda f: f.get("id") == 7)
        assert frame["type"] == "error"
        assert frame["error"]["code"] == "invalid_text"
    finally:
        sock.close()
    message = alice.history(chat["id"])[-1]
    alice.call("PATCH", f"/chats/{chat['id']}/messages/{message['id']}",
               json={"text": "edited\x00"}, expect=422)
    assert [m["text"] for m in alice.history(chat["id"])] == [kept["text"]]


def test_nul_anywhere_is_a_clear_400_not_a_500(server: LiveServer, alice: Api) -> None:
    """On PostgreSQL a NUL reaching a query fails the statement: refuse it at the door."""
    for path, params in (("/public/search", {"q": "a\x00b"}),
                         ("/public/chats/ab%00cd", None),
                         ("/users/by-username/ab%00cdef", None)):
        response = alice.call("GET", path, params=params)
        assert response.status_code == 400, (path, response.status_code, response.text)
    for body in ({"about": "hi\x00"}, {"display_name": "x\x00"}):
        assert alice.call("PATCH", "/me", json=body).status_code == 422
    bot = make_bot(server)
    assert bot.call("PATCH", "/me", json={"description": "d\x00"},
                    expect=400)["code"] == "proto.payload"


def test_every_answer_says_nosniff(server: LiveServer, alice: Api) -> None:
    answers = [alice.call("GET", "/me"), alice.call("GET", "/chats/123456"),
               httpx.get(f"{server.url}/api/v1/health"),
               httpx.get(f"{server.url}/botapi/me", params={"access_token": "nope"})]
    for response in answers:
        assert response.headers.get("x-content-type-options") == "nosniff", response.url
    assert orjson.loads(answers[1].content)["error"]["code"] == "chat_not_found"


def test_the_openapi_document_declares_every_path_parameter(server: LiveServer) -> None:
    """Schema tools (fuzzers, client generators) refuse a path whose {parameter} is not
    declared; every operation must declare its own."""
    schema = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    missing = []
    for path, operations in schema["paths"].items():
        wanted = set(re.findall(r"{([^}]+)}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            if wanted - declared:
                missing.append(f"{method.upper()} {path}: {sorted(wanted - declared)}")
    assert not missing
