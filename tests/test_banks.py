"""Hash banks through the admin API and the service, on a live server and both databases."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import skimage.data
from PIL import Image

from darbuka.safety import banks as banks_module
from darbuka.safety.banks import BankService
from darbuka.safety.matcher import Entry, Matcher, Verdict
from darbuka.safety.perceptual import pdq_of
from tests.conftest import LiveServer, make_server
from tests.helpers import Api, wait_until
from tests.safety_helpers import make_staff

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CSV = f"signal_type,hash,category\npdq,{PDQ},terrorism\nmd5,{MD5},\nsha256,{SHA},x\n"

# Every bank route and a body that would succeed for an operator. A new bank route fails
# `test_roles_guard_every_bank_route` until it is listed here (and so walked by each role).
ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/safety/banks"): None,
    ("POST", "/api/v1/safety/banks"): {"name": "new-bank"},
    ("GET", "/api/v1/safety/banks/{bank}"): None,
    ("PATCH", "/api/v1/safety/banks/{bank}"): {"action": "refuse"},
    ("POST", "/api/v1/safety/banks/{bank}/import"): CSV,
    ("GET", "/api/v1/safety/banks/{bank}/export"): None,
    ("GET", "/api/v1/safety/banks/{bank}/scans"): None,
    ("POST", "/api/v1/safety/banks/{bank}/remove-hashes"): {
        "hashes": [{"signal_type": "md5", "hash": MD5}]},
    ("GET", "/api/v1/safety/matches"): None,
    ("DELETE", "/api/v1/safety/banks/{bank}"): None,  # last: the operator's walk deletes "b"
}


def grant(server: LiveServer, api: Api, role: str) -> Api:
    return make_staff(server, api, role)


@pytest.fixture
def operator(server: LiveServer) -> Api:
    return grant(server, server.sign_up("Olga Operator"), "operator")


@pytest.fixture
def moderator(server: LiveServer) -> Api:
    return grant(server, server.sign_up("Max Moderator"), "moderator")


def call(api: Api, method: str, path: str, body: Any) -> Any:
    path = path.removeprefix("/api/v1").replace("{bank}", "b")
    if isinstance(body, str):
        return api.call(method, path, content=body.encode(),
                        headers={"content-type": "text/csv"})
    return api.call(method, path, json=body)


def state(operator: Api) -> Any:
    banks = operator.ok("GET", "/safety/banks")["banks"]
    return [(b["name"], b["action"], b["hashes"]) for b in banks]


def test_roles_guard_every_bank_route(server: LiveServer, operator: Api, moderator: Api,
                                      alice: Api) -> None:
    paths: dict[str, dict[str, Any]] = server.app.openapi()["paths"]
    served = {(m.upper(), p) for p, ops in paths.items()
              if p.startswith(("/api/v1/safety/banks", "/api/v1/safety/matches")) for m in ops}
    assert served == set(ROUTES), "list new bank routes in ROUTES"
    operator.ok("POST", "/safety/banks", json={"name": "b"})
    operator.ok("POST", "/safety/banks/b/import", content=CSV.encode())
    before = state(operator)
    anonymous = Api(server.url)
    for (method, path), body in ROUTES.items():
        assert call(anonymous, method, path, body).status_code == 401, (method, path)
        response = call(alice, method, path, body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "role_required"
        response = call(moderator, method, path, body)
        assert response.status_code == (200 if method == "GET" else 403), (method, path)
    assert state(operator) == before
    for (method, path), body in ROUTES.items():
        response = call(operator, method, path, body)
        assert response.is_success, (method, path, response.text)
    anonymous.close()


def test_import_export_round_trip(operator: Api) -> None:
    bank = operator.ok("POST", "/safety/banks", json={
        "name": "tcap", "source": "TCAP hash list", "category": "terrorism",
        "action": "refuse"})
    assert (bank["pdq_threshold"], bank["quality_floor"], bank["enabled"]) == (31, 50, True)
    report = operator.ok("POST", "/safety/banks/tcap/import", content=CSV.encode())
    assert (report["added"], report["already_present"]) == (3, 0)
    assert operator.ok("GET", "/safety/banks/tcap")["hashes"] == {"md5": 1, "sha256": 1,
                                                                   "pdq": 1, "url": 0,
                                                                   "domain": 0}
    exported = operator.call("GET", "/safety/banks/tcap/export", expect=200)
    assert exported.headers["content-type"].startswith("text/csv")
    assert sorted(exported.text.splitlines()) == sorted(CSV.splitlines())
    again = operator.ok("POST", "/safety/banks/tcap/import?format=csv", content=CSV.encode())
    assert (again["added"], again["already_present"]) == (0, 3)

    as_json = operator.call("GET", "/safety/banks/tcap/export?format=json", expect=200)
    assert as_json.json()["bank"]["source"] == "TCAP hash list"
    operator.ok("POST", "/safety/banks", json={"name": "copy"})
    operator.ok("POST", "/safety/banks/copy/import", content=as_json.content)
    copy = operator.call("GET", "/safety/banks/copy/export", expect=200).text
    assert sorted(copy.splitlines()) == sorted(CSV.splitlines())


def test_a_bad_file_imports_nothing(operator: Api) -> None:
    operator.ok("POST", "/safety/banks", json={"name": "b"})
    bad = f"signal_type,hash\npdq,{PDQ}\npdq,{PDQ}00\nmd5,{MD5}\nsha1,{MD5}\n"
    response = operator.call("POST", "/safety/banks/b/import", content=bad.encode(), expect=422)
    error = response.json()["error"]
    assert error["code"] == "invalid_hash_list"
    assert [p["where"] for p in error["problems"]] == ["line 3", "line 5"]
    assert error["problem_count"] == 2
    assert operator.ok("GET", "/safety/banks/b")["hashes"] == {
        "md5": 0, "sha256": 0, "pdq": 0, "url": 0, "domain": 0}
    operator.call("POST", "/safety/banks/b/import", content=b"\xff\xfe\x00", expect=400)
    operator.call("POST", "/safety/banks/none/import", content=CSV.encode(), expect=404)
    operator.call("POST", "/safety/banks", json={"name": "b"}, expect=409)
    operator.call("POST", "/safety/banks", json={"name": "c", "pdq_threshold": 300},
                  expect=422)
    operator.call("POST", "/safety/banks", json={"name": "../etc"}, expect=400)
    operator.call("POST", "/safety/banks", json={"name": "c", "action": "delete"}, expect=422)
    operator.call("GET", "/safety/banks/a%20b", expect=422)


def astronaut() -> Image.Image:
    return Image.fromarray(skimage.data.astronaut())


def check(server: LiveServer, subject: str, image: Image.Image | None = None,
          **hashes: Any) -> Verdict:
    banks = server.app.state.services.banks
    if image is not None:
        verdict: Verdict = server.run_async(banks.check_image(subject, image, **hashes))
    else:
        verdict = server.run_async(banks.check(subject, **hashes))
    return verdict


def test_a_banked_image_is_refused_at_once_and_every_match_recorded(
        server: LiveServer, operator: Api, moderator: Api) -> None:
    operator.ok("POST", "/safety/banks", json={"name": "removals", "action": "refuse"})
    image = astronaut()
    raw = io.BytesIO()
    image.save(raw, "PNG")
    sha = hashlib.sha256(raw.getvalue()).digest()
    banks = server.app.state.services.banks
    added = server.run_async(banks.do_add_media("removals", image=image, sha256=sha,
                                                labels={"case": "1"}))
    assert added == 9  # eight PDQ variants and the SHA-256
    mirrored = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((256, 256))
    assert check(server, "media:1", mirrored).action == "refuse"
    assert check(server, "media:2", sha256=sha.hex()).action == "refuse"
    unrelated = Image.fromarray(skimage.data.coffee())
    assert check(server, "media:3", unrelated).action is None

    matches = moderator.ok("GET", "/safety/matches")["matches"]
    assert [(m["subject"], m["bank_name"], m["signal"], m["outcome"]) for m in matches] == [
        ("media:2", "removals", "sha256", "refuse"), ("media:1", "removals", "pdq", "refuse")]
    assert matches[1]["distance"] <= 31
    assert matches[0]["query_hash"] == sha.hex()


def test_negative_banks_cancel_and_rules_apply_at_once(server: LiveServer,
                                                       operator: Api) -> None:
    operator.ok("POST", "/safety/banks", json={"name": "list", "action": "review"})
    operator.ok("POST", "/safety/banks", json={"name": "benign", "negative": True})
    image = astronaut()
    digest, quality = pdq_of(image)
    banks = server.app.state.services.banks
    server.run_async(banks.do_add_media("list", pdq=[digest.hex()]))
    assert check(server, "m", pdq=[(digest, quality)]).action == "review"

    server.run_async(banks.do_add_media("benign", image=image, all_eight_transforms=False))
    verdict = check(server, "m", image)
    assert verdict.action is None
    assert sorted((m.bank_name, m.outcome) for m in verdict.matches) == [
        ("benign", "none"), ("list", "cancelled")]

    operator.ok("PATCH", "/safety/banks/benign", json={"enabled": False})
    assert check(server, "m", image).action == "review"
    operator.ok("PATCH", "/safety/banks/list", json={"quality_floor": 100, "action": "refuse"})
    assert check(server, "m", pdq=[(digest, 99)]).action is None
    assert check(server, "m", pdq=[(digest, 100)]).action == "refuse"

    removed = operator.ok("POST", "/safety/banks/list/remove-hashes", json={
        "hashes": [{"signal_type": "pdq", "hash": digest.hex()}]})
    assert removed == {"removed": 1}
    assert check(server, "m", pdq=[(digest, 100)]).action is None
    operator.call("POST", "/safety/banks/list/remove-hashes", json={
        "hashes": [{"signal_type": "pdq", "hash": "xyz"}]}, expect=400)


@pytest.fixture
def second(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """Another server process on the same database, polling bank changes quickly."""
    srv = make_server(database_url, tmp_path, safety_bank_poll_s=0.05)
    yield srv
    srv.thread.stop()


def test_other_server_processes_learn_of_changes(server: LiveServer, operator: Api,
                                                 second: LiveServer) -> None:
    operator.ok("POST", "/safety/banks", json={"name": "shared", "action": "refuse"})
    operator.ok("POST", "/safety/banks/shared/import", content=CSV.encode())
    wait_until(lambda: check(second, "s", md5=MD5).action == "refuse",
               message="the other process to load the new hashes")
    near = bytes.fromhex(PDQ)[:-1] + bytes([bytes.fromhex(PDQ)[-1] ^ 0x0F])
    assert check(second, "s", pdq=[(near, 90)]).matches[0].distance == 4

    operator.ok("POST", "/safety/banks/shared/remove-hashes", json={
        "hashes": [{"signal_type": "md5", "hash": MD5}]})
    wait_until(lambda: check(second, "s", md5=MD5).action is None,
               message="the other process to drop the removed hash")
    operator.ok("PATCH", "/safety/banks/shared", json={"action": "review"})
    wait_until(lambda: check(second, "s", sha256=SHA).action == "review",
               message="the other process to take the new rule")
    operator.call("DELETE", "/safety/banks/shared", expect=204)
    wait_until(lambda: check(second, "s", sha256=SHA, pdq=[(near, 90)]).matches == [],
               message="the other process to drop the deleted bank")


class _Recording(Matcher):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def apply(self, entries: Iterable[Entry]) -> None:
        entries = list(entries)
        self.batches.append(len(entries))
        super().apply(entries)


def test_start_up_loads_the_hashes_a_page_at_a_time(server: LiveServer, operator: Api,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten million hashes read at once would be gigabytes of Python objects."""
    md5s = [hashlib.md5(bytes([i])).hexdigest() for i in range(8)]  # noqa: S324 (test data)
    rows = "".join(f"md5,{h},\n" for h in md5s)
    operator.ok("POST", "/safety/banks", json={"name": "paged", "action": "refuse"})
    operator.ok("POST", "/safety/banks/paged/import",
                content=f"signal_type,hash,category\npdq,{PDQ},\n{rows}".encode())
    monkeypatch.setattr(banks_module, "LOAD_PAGE", 3)
    live = server.app.state.services.banks
    matcher = _Recording()
    fresh = BankService(live._db, live._stores, live._writer, live._clock, matcher,
                        poll_s=0)
    server.run_async(fresh.refresh())
    assert matcher.batches == [3, 3, 3]
    assert matcher.check(pdq=[(PDQ, 90)]).action == "refuse"
    assert all(matcher.check(md5=h).action == "refuse" for h in md5s)
