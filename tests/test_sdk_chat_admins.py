"""The SDK's chat admin calls against a live server: slow mode and join approval, join
requests answered, bans, the admin log and escalation — each checked from the other side."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from darbuka.client import ApiError, Client
from darbuka.client.chat_admins import JoinRequest
from darbuka.client.models import Chat
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id


@pytest.fixture
async def clients(server: LiveServer) -> AsyncIterator[list[Client]]:
    made = [Client(server.url, server.sign_up(n).token) for n in ("Alice", "Bob", "Carol")]
    yield made
    for client in made:
        await client.close()


async def test_an_admin_runs_a_chat_with_the_sdk(server: LiveServer,
                                                 clients: list[Client]) -> None:
    a, b, c = clients
    b_id, c_id = (await b.me()).id, (await c.me()).id
    group = await a.create_group("Run by SDK")
    chat = await a.update_chat(group.id, slow_mode_s=20, join_approval=True)
    assert (chat.raw["slow_mode_s"], chat.raw["join_approval"]) == (20, True)
    invite = await a.create_invite(group.id)
    assert invite.token is not None
    asked = await b.join_by_invite(invite.token)
    assert isinstance(asked, JoinRequest)
    assert asked.user_id == b_id
    assert isinstance(await c.join_by_invite(invite.token), JoinRequest)
    assert [r.user_id for r in await a.join_requests(group.id)] == [b_id, c_id]
    await a.approve_join(group.id, b_id)
    await a.decline_join(group.id, c_id)
    assert [m.id for m in await b.chats()] == [group.id]
    # Slow mode holds bob to one message per 20 s.
    await b.send_now(group.id, "hello")
    with pytest.raises(ApiError) as slow:
        await b.send_now(group.id, "again", client_id=new_client_id())
    assert (slow.value.status, slow.value.code) == (429, "slow_mode")
    # Banned, he is out and stays out.
    await a.ban(group.id, b_id)
    assert [x.user_id for x in await a.bans(group.id)] == [b_id]
    with pytest.raises(ApiError) as banned:
        await b.join_by_invite(invite.token)
    assert (banned.value.status, banned.value.code) == (403, "banned")
    report = await a.escalate(group.id, user_id=b_id, reason="spam", note="flooding")
    assert (report["target_type"], report["target_id"]) == ("user", b_id)
    log = await a.admin_log(group.id)
    assert [e.action for e in log][:4] == ["report.escalated", "member.banned", "join.declined",
                                           "join.approved"]
    assert log[-1].action == "slow_mode.changed"
    assert log[-1].details == {"value": 20}
    older = await a.admin_log(group.id, before=log[0].id, limit=1)
    assert [e.id for e in older] == [log[1].id]
    await a.unban(group.id, b_id)
    joined = await b.join_by_invite(invite.token)
    assert isinstance(joined, JoinRequest)  # approval is still on


async def test_a_join_without_approval_answers_the_chat(server: LiveServer, alice: Api,
                                                        clients: list[Client]) -> None:
    _, b, _ = clients
    group = alice.group("Open", [], handle="open_sdk")
    joined = await b.join(group["id"])
    assert isinstance(joined, Chat)
    assert joined.role == "member"
