"""The `tamtam-bot` library (Python >= 3.12, its own venv) against our Bot API."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "tamtam"
VENV = ROOT / ".venv-tamtam"


def _python312() -> str | None:
    """A Python >= 3.12 that runs: one pyenv installed, or one on PATH."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(glob.glob(str(pyenv / "3.1[2-9]*" / "bin" / "python")))
    candidates += [p for name in ("python3.12", "python3.13") if (p := shutil.which(name))]
    for candidate in candidates:
        check = subprocess.run([candidate, "-c", "import sys; assert sys.version_info >= (3, 12)"],
                               capture_output=True, check=False)
        if check.returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="session")
def tamtam_python() -> str:
    """The venv's python, built once and kept until requirements.txt changes."""
    requirements = HERE / "requirements.txt"
    stamp = VENV / f".installed-{hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]}"
    if not stamp.exists():
        base = _python312()
        if base is None:
            pytest.skip("tamtam-bot needs Python >= 3.12 and none is installed")
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "--no-deps", "-r",
                        str(requirements)], check=True)
        stamp.touch()
    return str(VENV / "bin" / "python")


def _run_bot(python: str, mode: str, server: LiveServer, token: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([python, str(HERE / "bots.py"), mode, server.url, token],
                               stdout=subprocess.PIPE, text=True,
                               env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _replied(alice: Api, chat_id: int, text: str) -> bool:
    return text in [m.get("text") for m in alice.history(chat_id)]


def test_tamtam_echo_bot_long_polling(server: LiveServer, alice: Api,
                                      tamtam_python: str) -> None:
    bot = make_bot(server, "TT echo")
    chat = alice.ok("POST", "/chats", json={"kind": "direct", "user_id": bot.id})
    process = _run_bot(tamtam_python, "echo", server, bot.token)
    try:
        alice.send(chat["id"], "marco")
        wait_until(lambda: _replied(alice, chat["id"], "echo: marco"), timeout=20,
                   message="the tamtam-bot echo")
        assert process.wait(20) == 0
    finally:
        process.kill()


def test_tamtam_webhook_bot(hook_server: LiveServer, tamtam_python: str) -> None:
    server = hook_server
    alice = server.sign_up("Alice")
    bot = make_bot(server, "TT hook")
    chat = alice.group("hooked", [])
    alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot.id]})
    process = _run_bot(tamtam_python, "webhook", server, bot.token)
    try:
        alice.send(chat["id"], "polo")
        wait_until(lambda: _replied(alice, chat["id"], "hook: polo"), timeout=20,
                   message="the tamtam-bot webhook")
        assert process.wait(20) == 0
    finally:
        process.kill()


