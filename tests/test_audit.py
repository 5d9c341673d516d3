"""The audit chain: every safety action is recorded, and tampering is found by the CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_server
from tests.safety_helpers import make_authority, order_for, staff


def _verify(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DARBUKA_DATABASE_URL": ""}
    return subprocess.run([sys.executable, "-m", "darbuka", "admin", "audit", "verify",
                           "--data-dir", str(data_dir)], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def test_a_tampered_audit_record_is_found(tmp_path: Path) -> None:
    server = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path)
    try:
        alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
        authority = make_authority(server, server.sign_up("Authority"))
        mod = staff(server, "Mod")
        for n in range(3):
            message = alice.send(alice.direct(bob)["id"], f"post {n}")
            order = authority.ok("POST", "/orders", json=order_for(message, f"R{n}"))
            mod.ok("POST", f"/moderation/orders/{order['id']}/confirm", json={})
    finally:
        server.thread.stop()
    intact = _verify(tmp_path)
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout
    with sqlite3.connect(tmp_path / "darbuka.db") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
        assert actions.count("order.received") == 3
        assert actions.count("order.executed") == 3
        assert actions.count("decision.remove_message") == 3
        assert actions.count("account.role") == 1
        # Someone edits one record quietly: the chain breaks exactly there.
        db.execute("UPDATE audit_log SET details = '{\"reference\":\"other\"}' WHERE id = 5")
    broken = _verify(tmp_path)
    assert broken.returncode == 1
    assert "BROKEN at record 5" in broken.stdout
    assert "contents" in broken.stdout
    with sqlite3.connect(tmp_path / "darbuka.db") as db:
        db.execute("DELETE FROM audit_log WHERE id = 5")
    assert "BROKEN at record 6" in _verify(tmp_path).stdout
