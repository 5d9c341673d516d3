"""Retroactive matching: media stored before its hash reached a bank is checked when the
hash arrives (a job, with progress) and refused or held as an upload would have been —
through the API and the admin CLI, on a live server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from darbuka.cli import app as cli
from darbuka.safety.perceptual import pdq_of
from tests.conftest import LiveServer, make_server
from tests.helpers import Api, wait_until
from tests.safety_helpers import staff
from tests.test_mediasafety import encoded, photo, send_media, settled

MONTH_S = 30 * 24 * 3600


def pdq_csv(*names: str) -> str:
    rows = [f"pdq,{pdq_of(photo(name))[0].hex()},terrorism" for name in names]
    return "signal_type,hash,category\n" + "\n".join(rows) + "\n"


def import_list(operator: Api, bank: str, csv: str) -> dict[str, Any]:
    response = operator.call("POST", f"/safety/banks/{bank}/import?format=csv",
                             content=csv.encode())
    assert response.status_code == 200, response.text
    return dict(response.json())


def scans_done(api: Api, bank: str) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        scans = api.ok("GET", f"/safety/banks/{bank}/scans")["scans"]
        return scans if scans and all(s["state"] == "done" for s in scans) else None

    return list(wait_until(done, timeout=30, message=f"the scans of {bank} done"))


def test_media_stored_last_month_is_refused_or_held_when_its_hash_arrives(
        server: LiveServer, alice: Api, bob: Api) -> None:
    group = alice.group("friends", [bob])
    shared = settled(alice, encoded(photo("coffee").resize((300, 200)), quality=70))
    posted = send_media(alice, group["id"], shared["id"]).json()
    later = settled(alice, encoded(photo("chelsea")))
    benign = settled(alice, encoded(photo("rocket")))
    untouched = settled(alice, encoded(photo("astronaut")))
    assert {m["state"] for m in (shared, later, benign, untouched)} == {"ready"}
    server.clock.advance(MONTH_S)

    operator = staff(server, "Op", role="operator")
    operator.ok("POST", "/safety/banks", json={"name": "known-benign", "negative": True})
    import_list(operator, "known-benign", pdq_csv("rocket"))
    operator.ok("POST", "/safety/banks", json={"name": "tcap", "action": "refuse",
                                                 "category": "terrorism"})
    operator.ok("POST", "/safety/banks", json={"name": "to-check", "action": "review"})
    # The negative bank's hashes start no scan: it never acts.
    assert operator.ok("GET", "/safety/banks/known-benign/scans")["scans"] == []
    assert import_list(operator, "tcap", pdq_csv("coffee", "rocket"))["added"] == 2
    import_list(operator, "to-check", pdq_csv("chelsea"))

    (scan,) = scans_done(operator, "tcap")
    assert (scan["hashes"], scan["matched"]) == (2, 1)
    assert scan["scanned"] == scan["total"] >= 4
    assert scans_done(operator, "to-check")[0]["matched"] == 1

    # Refused: removed everywhere on the moderators' path, as an automated decision.
    (shown,) = [m for m in bob.history(group["id"]) if m["id"] == posted["id"]]
    assert shown["removed"]
    assert "media" not in shown
    bob.call("GET", f"/media/{shared['id']}/screen", expect=404)
    alice.call("GET", f"/media/{shared['id']}", expect=404)  # as after a moderator's removal
    assert send_media(alice, group["id"], shared["id"]).json()["error"]["code"] == (
        "media_removed")
    (statement,) = alice.ok("GET", "/statements")["statements"]
    assert statement["decision"] == "remove_media"
    assert statement["automated_detection"] == "Yes"
    assert statement["category"] == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    assert "tcap" not in str(statement)  # names no bank, as an upload's refusal
    mod = staff(server, "Mod")
    (decided,) = mod.ok("GET", "/moderation/queue?status=actioned")["items"]
    assert (decided["target_key"], decided["decision"], decided["decided_by"]) == (
        shared["id"], "remove_media", None)

    # Held: not usable, a hash_match item waits for a moderator, who can let it go.
    assert alice.ok("GET", f"/media/{later['id']}")["state"] == "held"
    sent = send_media(alice, group["id"], later["id"])
    assert (sent.status_code, sent.json()["error"]["code"]) == (409, "media_held")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    assert (item["source"], item["target_key"]) == ("hash_match", later["id"])
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={"action": "dismiss"})
    assert send_media(alice, group["id"], later["id"]).status_code == 201

    # The negative bank still cancels; what no bank lists stays as it was.
    assert alice.ok("GET", f"/media/{benign['id']}")["state"] == "ready"
    assert alice.ok("GET", f"/media/{untouched['id']}")["state"] == "ready"
    outcomes = {(m["subject"], m["bank_name"]): m["outcome"] for m in
                operator.ok("GET", "/safety/matches")["matches"]}
    assert outcomes[(f"media:{benign['id']}", "tcap")] == "cancelled"
    assert outcomes[(f"media:{shared['id']}", "tcap")] == "refuse"


def test_only_staff_read_scans_and_an_unknown_bank_is_404(server: LiveServer,
                                                          alice: Api) -> None:
    assert alice.call("GET", "/safety/banks/tcap/scans").status_code == 403
    mod = staff(server, "Mod")
    response = mod.call("GET", "/safety/banks/nope/scans")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "no_such_bank")
    assert mod.call("GET", "/safety/banks/nope/scans?limit=0").status_code in (400, 422)


def test_an_import_with_the_admin_cli_scans_what_a_running_server_stored(
        tmp_path: Path) -> None:
    server = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path)
    try:
        alice = server.sign_up("Alice")
        stored = settled(alice, encoded(photo("coffee")))
        server.clock.advance(MONTH_S)
        hashes = tmp_path / "list.csv"
        hashes.write_text(pdq_csv("coffee"))
        runner = CliRunner()
        for args in (["create-bank", "tcap", "--action", "refuse"],
                     ["import-bank", str(hashes), "--bank", "tcap"]):
            result = runner.invoke(cli, ["admin", "safety", *args, "--data-dir", str(tmp_path)])
            assert result.exit_code == 0, result.output
        # The server's job runner takes the scan the command queued.
        mod = staff(server, "Mod")
        assert scans_done(mod, "tcap")[0]["matched"] == 1
        assert alice.ok("GET", f"/media/{stored['id']}")["state"] == "removed"
    finally:
        server.thread.stop()
