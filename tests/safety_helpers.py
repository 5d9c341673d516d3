"""Making staff and authorities in tests, as an operator would with `darbuka admin`."""

from __future__ import annotations

from typing import Any

from darbuka.safety.accounts import AccountChange
from tests.conftest import LiveServer
from tests.helpers import Api

__all__ = ["make_authority", "make_staff", "order_for", "staff"]


def make_staff(server: LiveServer, api: Api, role: str = "moderator") -> Api:
    accounts = server.app.state.services.accounts
    server.run_async(accounts.do_change(AccountChange(role=role),
                                        phone=api.ok("GET", "/me")["phone"]))
    return api


def make_authority(server: LiveServer, api: Api, *, trusted: bool | None = None) -> Api:
    accounts = server.app.state.services.accounts
    server.run_async(accounts.do_change(AccountChange(kind="authority", trusted_flagger=trusted),
                                        phone=api.ok("GET", "/me")["phone"]))
    return api


def staff(server: LiveServer, name: str, role: str = "moderator") -> Api:
    return make_staff(server, server.sign_up(name), role)


def order_for(message: dict[str, Any], reference: str = "TCO-2026-0001") -> dict[str, Any]:
    """The fields of Annex I, pointing at one message by its location."""
    return {"issuing_authority": "Bundeskriminalamt (test)", "issuing_state": "DE",
            "reference": reference, "issued_at": 1_790_000_000_000,
            "location": f"https://chat.example.org/chats/{message['chat_id']}/messages/"
                        f"{message['id']}",
            "reasons": "Dissemination of terrorist content (Art. 2(7)(a)): glorification of a "
                       "named attack with a call to repeat it."}

